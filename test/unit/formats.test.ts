import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { TerminalError, detectDelimiter, detectEncoding, openCsv } from '@datacycle/core';

const streamOf = (bytes: Buffer | string, chunkSize = 7) => {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  return Readable.from(chunks);
};

async function readAll(input: Buffer | string) {
  const table = await openCsv(streamOf(input));
  const rows: string[][] = [];
  for await (const row of table.rows) rows.push(row.cells);
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
      for await (const row of table.rows) numbers.push(row.rowNumber);
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
});
