import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import {
  MalformedQuote,
  RecordSplitter,
  parseCsvRecords,
  parseCsvRun,
  type CsvRun,
  TerminalError,
  detectDelimiter,
  detectEncoding,
  eachRow,
  openCsv,
} from '@datacycle/core';

/** Runs read as decoded UTF-8 text. */
const utf8Text = (bytes: Uint8Array) => ({ text: Buffer.from(bytes).toString('utf8') });

const streamOf = (bytes: Buffer | string, chunkSize = 7) => {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  return Readable.from(chunks);
};

async function readAll(input: Buffer | string) {
  const table = await openCsv(streamOf(input));
  const rows: string[][] = [];
  for await (const row of eachRow(table)) rows.push(row.cells);
  return { ...table, rows };
}

describe('formats', () => {
  describe('detectEncoding', () => {
    it('tells UTF-8 from Windows-1252', () => {
      expect(detectEncoding(Buffer.from('nom;commune\nÉcole;Orléans\n'))).toBe('utf-8');
      expect(detectEncoding(iconv.encode('nom;commune\nÉcole;Orléans\n', 'win1252'))).toBe('windows-1252');
    });

    it('does not mistake a multi-byte character cut by the sample end for Latin-1', () => {
      const text = Buffer.from('a;b\né');
      expect(detectEncoding(text.subarray(0, text.length - 1))).toBe('utf-8');
    });
  });

  describe('detectDelimiter', () => {
    it('finds the delimiter, ignoring those inside quotes', () => {
      expect(detectDelimiter('a;b;c\n1;"x,y,z";3\n')).toBe(';');
      expect(detectDelimiter('a,b\n"1;2",3\n')).toBe(',');
      expect(detectDelimiter('a\tb\tc\n1\t2\t3\n')).toBe('\t');
      expect(detectDelimiter('a|b\n1|2\n')).toBe('|');
    });
  });

  describe('openCsv', () => {
    it('reads a semicolon CSV in Windows-1252 with CRLF line endings', async () => {
      const bytes = iconv.encode('code;nom\r\n45;Loiret — Orléans\r\n2A;Corse-du-Sud\r\n', 'win1252');
      const table = await readAll(bytes);
      expect(table.dialect).toEqual({ encoding: 'windows-1252', delimiter: ';' });
      expect(table.header).toEqual(['code', 'nom']);
      expect(table.rows).toEqual([
        ['45', 'Loiret — Orléans'],
        ['2A', 'Corse-du-Sud'],
      ]);
    });

    it('drops a UTF-8 byte order mark and keeps quoted newlines', async () => {
      const table = await readAll('\uFEFFid,texte\n1,"ligne 1\nligne 2"\n');
      expect(table.header).toEqual(['id', 'texte']);
      expect(table.rows).toEqual([['1', 'ligne 1\nligne 2']]);
    });

    it('numbers rows from the header (row 1)', async () => {
      const table = await openCsv(streamOf('a,b\n1,2\n3,4\n'));
      const numbers: number[] = [];
      for await (const row of eachRow(table)) numbers.push(row.rowNumber);
      expect(numbers).toEqual([2, 3]);
    });

    it('refuses an empty file and binary content with a terminal error', async () => {
      await expect(openCsv(streamOf(''))).rejects.toThrow(TerminalError);
      await expect(openCsv(streamOf(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])))).rejects.toThrow(
        /not text/,
      );
    });

    it('says where an unbalanced quote breaks the file', async () => {
      await expect(readAll('a,b\n1,2\n3,"never closed\n4,5\n')).rejects.toThrow(
        'unbalanced quotes: the quote opened at line 3 is never closed',
      );
    });
  });

  describe('RecordSplitter', () => {
    // Cells with the characters that make CSV hard: delimiters, quotes, newlines, CRLF.
    const tricky = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'crlf\r\ninside', '', 'é — €'];
    const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
    const records = Array.from({ length: 2000 }, (_, i) => [String(i), tricky[i % 7]!, tricky[(i * 3) % 7]!]);
    // Lines end with LF and CRLF alternately.
    const text = records.map((cells, i) => cells.map(quote).join(',') + (i % 2 ? '\r\n' : '\n')).join('');

    const utf8 = (run: CsvRun) => Buffer.from(run.bytes).toString('utf8');

    function split(input: string, chunkBytes: number, minRunBytes: number): string[][] {
      const splitter = new RecordSplitter(',', 1_000_000, minRunBytes);
      const rows: string[][] = [];
      const parse = (run: CsvRun | undefined) => {
        if (run === undefined) return;
        const text = utf8(run);
        const cells = Papa.parse<string[]>(text, { newline: '\n', delimiter: ',' }).data;
        if (text.endsWith('\n')) cells.pop();
        expect(run.firstRow).toBe(rows.length + 1);
        expect(run.records).toBe(cells.length);
        for (const row of cells)
          rows.push(row.map((cell, i) => (i === row.length - 1 ? cell.replace(/\r$/, '') : cell)));
      };
      // Pieces of bytes: characters of several bytes ("é — €") are cut between them.
      const bytes = Buffer.from(input);
      for (let at = 0; at < bytes.length; at += chunkBytes) parse(splitter.push(bytes.subarray(at, at + chunkBytes)));
      parse(splitter.end());
      return rows;
    }

    it.each([
      [1, 0],
      [7, 64],
      [4096, 1024],
      [100_000, 32 * 1024],
    ])(
      'cuts only between records and numbers them (chunks of %i bytes, runs of %i)',
      (chunkBytes, minRunBytes) => {
        expect(split(text, chunkBytes, minRunBytes)).toEqual(records);
      },
    );

    it('counts the records the parser reads, quotes inside bare cells included (random files, random pieces)', () => {
      let state = 7;
      const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
      // Quotes at the start of cells, inside bare cells, doubled, split across pieces.
      const pieces = ['a', '"', '""', ' ', ';', '\n', '\r\n', 'x"y', '"q""uote"', '"multi\nline"', ''];
      for (let file = 0; file < 300; file++) {
        const text = Array.from({ length: 1 + Math.floor(next() * 30) }, () => pick(pieces)).join('');
        let records: string[][];
        try {
          records = parseCsvRecords(text, ';');
        } catch (error) {
          if (error instanceof MalformedQuote) continue;
          throw error;
        }
        if (text.endsWith('\n')) records.pop();
        const splitter = new RecordSplitter(';', 1_000_000, Math.floor(next() * 8));
        const runs: CsvRun[] = [];
        try {
          for (let at = 0; at < text.length;) {
            const size = 1 + Math.floor(next() * 5);
            const run = splitter.push(Buffer.from(text.slice(at, at + size)));
            if (run) runs.push(run);
            at += size;
          }
          const rest = splitter.end();
          if (rest) runs.push(rest);
        } catch (error) {
          // The parser read this text: the splitter must too (it may not see a quote unclosed).
          throw new Error(`${JSON.stringify(text)}: ${String(error)}`, { cause: error });
        }
        const rows = runs.flatMap((run) => parseCsvRun(run, ';', utf8Text).map((row) => row.rowNumber));
        expect(rows, JSON.stringify(text)).toEqual(records.map((_, index) => index + 1));
      }
    });

    it('bounds the record in progress and names the line where a quote opened', () => {
      const splitter = new RecordSplitter(',', 100, 0);
      const first = splitter.push(Buffer.from('a,b\n1,2\n'));
      expect(first).toMatchObject({ firstRow: 1, records: 2, newlines: 2 });
      expect(utf8(first!)).toBe('a,b\n1,2\n');
      expect(() => splitter.push(Buffer.from('3,"' + 'x'.repeat(200)))).toThrow(
        /record starting near line 3 is longer than 100 bytes/,
      );
      const unbalanced = new RecordSplitter(',', 1000, 0);
      unbalanced.push(Buffer.from('a\n"b\nc\n'));
      expect(() => unbalanced.end()).toThrow('the quote opened at line 2 is never closed');
    });

    it('gives each run a buffer of its own, taken back for a later run once recycled', () => {
      const splitter = new RecordSplitter(',', 1_000_000, 0);
      const first = splitter.push(Buffer.from('a,b\n1,'))!;
      // Nothing else in its buffer: it can be transferred to a worker whole.
      expect(first.bytes.byteOffset).toBe(0);
      expect(utf8(first)).toBe('a,b\n');
      const second = splitter.push(Buffer.from('2\n'))!;
      expect(second.bytes.buffer).not.toBe(first.bytes.buffer);
      splitter.recycle(first);
      const third = splitter.push(Buffer.from('3,4\n'))!;
      expect(third.bytes.buffer).toBe(first.bytes.buffer);
      expect([utf8(second), utf8(third)]).toEqual(['1,2\n', '3,4\n']);
      expect([second.firstRow, third.firstRow]).toEqual([2, 3]);
    });

    it('reads a quote inside a bare cell as text, as the parser does', () => {
      const splitter = new RecordSplitter(',', 1000, 0);
      expect(splitter.push(Buffer.from('size,name\n5",screen\n6,"tv"\n'))).toMatchObject({ records: 3 });
      expect(splitter.end()).toBeUndefined();
    });
  });
});
