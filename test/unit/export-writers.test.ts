import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import {
  BinaryCopyParser,
  ByteOutput,
  Markup,
  viewOf,
  type ByteSource,
  ZipWriter,
  ROW_GROUP_ROWS,
  readCell,
  writeParquet,
  type ExportColumn,
  type CellBatch,
  type CellType,
} from '@datacycle/core';

/** COPY's binary format, as PostgreSQL writes it: header, rows of length-prefixed cells, trailer. */
function binaryCopy(rows: (Buffer | null)[][]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const cell of row) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(cell === null ? -1 : cell.length);
      parts.push(length);
      if (cell !== null) parts.push(cell);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

const int8 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
};
const int4 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};
const float8 = (value: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return bytes;
};

describe('BinaryCopyParser', () => {
  const types: CellType[] = ['text', 'int8', 'bool', 'date', 'time', 'float'];
  const rows = [
    [Buffer.from('Électra « Ouest »'), int8(-42n), Buffer.from([1]), int4(9_131), int8(0n), float8(7.4)],
    [null, int8(2n ** 62n), Buffer.from([0]), int4(0x7fffffff), null, float8(Number.NaN)],
    [Buffer.from(''), null, null, int4(-1), int8(86_400_000_000n), null],
  ];
  const expected = [
    ['Électra « Ouest »', -42n, true, 9_131 + 10_957, 946_684_800_000, 7.4],
    [null, 2n ** 62n, false, null, null, Number.NaN],
    ['', null, null, 10_956, 946_771_200_000, null],
  ];
  const typed = (batches: CellBatch[]) =>
    batches.flatMap((batch) =>
      Array.from({ length: batch.rows }, (_, row) =>
        types.map((type, column) => readCell(batch, row * batch.columns + column, type)),
      ),
    );

  it('reads typed cells, nulls and infinities, whatever the chunks they arrive in', () => {
    const bytes = binaryCopy(rows);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new BinaryCopyParser(types.length);
      const batches = [parser.push(bytes.subarray(0, cut)), parser.push(bytes.subarray(cut))];
      parser.finish();
      expect(typed(batches)).toEqual(expected);
    }
  });

  it('refuses a stream cut inside a row, and a row of another width', () => {
    const bytes = binaryCopy(rows);
    const parser = new BinaryCopyParser(types.length);
    parser.push(bytes.subarray(0, bytes.length - 10));
    expect(() => parser.finish()).toThrow(/middle of a row/);
    expect(() => new BinaryCopyParser(2).push(bytes)).toThrow(/row of 6 fields, expected 2/);
  });
});

describe('ByteOutput', () => {
  const tricky = [
    'Hauteur "2,10 m"\tligne 2\nchemin C:\\parking ; é € 😀 \u001f\u0000\b\f\r',
    '',
    "<b>&amp;</b> 'quoted' \u2028",
  ];
  const written = (write: (out: ByteOutput, bytes: ByteSource) => void, text: string) => {
    const out = new ByteOutput();
    const buffer = Buffer.from(text);
    write(out, { buffer, view: viewOf(buffer) });
    return (out.take() ?? Buffer.alloc(0)).toString('utf8');
  };

  it('writes UTF-8 text as JSON strings that parse back to the same text', () => {
    for (const text of tricky) {
      const json = written((out, bytes) => out.jsonString(bytes, 0, bytes.buffer.length), text);
      expect(JSON.parse(json)).toBe(text);
    }
  });

  // Text is read four bytes at a time while none needs escaping: each special character at
  // each place in a word, between plain and multibyte characters.
  const shifted = (special: string) =>
    Array.from({ length: 8 }, (_, shift) => `${'abcdéfgh'.slice(0, shift)}${special}xyz€w${special}${special}`);

  it('escapes a special character wherever it falls in a four-byte word', () => {
    for (const special of ['"', '\\', '\n', '\u0000', '\u001f', '<', '&', '\uffff'])
      for (const text of shifted(special)) {
        const json = written((out, bytes) => out.jsonString(bytes, 0, bytes.buffer.length), text);
        expect(JSON.parse(json)).toBe(text);
      }
    for (const text of shifted('<')) {
      const xml = written((out, bytes) => out.xmlText(bytes, 0, bytes.buffer.length), `${text}\uffff&`);
      expect(xml).toBe(`${text.replaceAll('<', '&lt;')}&amp;`);
    }
  });

  it('writes markup whole, whatever its length, and what follows it right after', () => {
    const out = new ByteOutput();
    const pieces = ['', 'a', 'ab', 'abc', 'abcd', 'abcdé', '{"type":"Feature","geometry":'];
    for (const piece of pieces) out.markup(new Markup(piece));
    out.ascii('!');
    expect(out.take()!.toString('utf8')).toBe(`${pieces.join('')}!`);
  });

  it('writes XML character data: markup escaped, characters XML 1.0 forbids dropped', () => {
    const xml = written(
      (out, bytes) => out.xmlText(bytes, 0, bytes.buffer.length),
      'a<b>&"c"\u0001\t\n\uffff\ufffe\ufffdz',
    );
    expect(xml).toBe('a&lt;b&gt;&amp;&quot;c&quot;\t\n\ufffdz');
  });

  it('keeps what it was given across its 1 MiB blocks', () => {
    const out = new ByteOutput();
    const piece = Buffer.from('0123456789abcdef'.repeat(4096)); // 64 KiB
    const source = { buffer: piece, view: viewOf(piece) };
    for (let index = 0; index < 40; index++) out.copy(source, index % 7, piece.length - (index % 7));
    const expected = Array.from({ length: 40 }, (_, index) => piece.subarray(index % 7));
    expect(out.take()!.equals(Buffer.concat(expected))).toBe(true);
  });

  it('hands a stream its filled blocks only, then the rest, in order', async () => {
    const out = new ByteOutput();
    const stream = new PassThrough({ highWaterMark: 1 });
    const received: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    const piece = Buffer.from('0123456789abcdef'.repeat(4096)); // 64 KiB
    const source = { buffer: piece, view: viewOf(piece) };
    for (let index = 0; index < 40; index++) {
      out.copy(source, index % 5, piece.length - (index % 5));
      await out.flushFilledTo(stream);
    }
    // 40 pieces of about 64 KiB fill two blocks of 1 MiB (a block is closed when the next
    // piece does not fit); the third is still being written.
    expect(received).toHaveLength(2);
    for (const chunk of received) {
      expect(chunk.length).toBeGreaterThan(1024 * 1024 - piece.length);
      expect(chunk.length).toBeLessThanOrEqual(1024 * 1024);
    }
    await out.flushTo(stream);
    const expected = Array.from({ length: 40 }, (_, index) => piece.subarray(index % 5));
    expect(Buffer.concat(received).equals(Buffer.concat(expected))).toBe(true);
  });
});

describe('ZipWriter', () => {
  it('writes parts whole and streamed that a ZIP reader reads back, with their CRC-32', async () => {
    const stream = new PassThrough();
    const archive: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => archive.push(chunk));
    const zip = new ZipWriter(stream);
    const small = Buffer.from('<?xml version="1.0"?><Types/>');
    const large = Buffer.from('<row r="1"><c r="A1"><v>1</v></c></row>'.repeat(50_000));
    await zip.addFile('[Content_Types].xml', small);
    async function* pieces() {
      for (let at = 0; at < large.length; at += 100_000) yield large.subarray(at, at + 100_000);
    }
    await zip.addStream('xl/worksheets/sheet1.xml', pieces());
    await zip.finish();

    const entries = await readZip(Buffer.concat(archive));
    expect(entries.map((entry) => entry.name)).toEqual(['[Content_Types].xml', 'xl/worksheets/sheet1.xml']);
    expect(entries[0]!.data.equals(small)).toBe(true);
    expect(entries[1]!.data.equals(large)).toBe(true);
    for (const entry of entries) expect(entry.crc).toBe(crc32(entry.data));
    expect(entries[1]!.compressed).toBeLessThan(large.length / 10);
  });

  it('deflates a large part in blocks, several at once, into one stream a reader inflates whole', async () => {
    const stream = new PassThrough();
    const archive: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => archive.push(chunk));
    const zip = new ZipWriter(stream);
    // 9 MiB and some: more blocks of 1 MiB than are deflated at once, in pieces that straddle
    // them; rows that differ (numbers, a multi-byte character) so that no block looks alike.
    const rows: string[] = [];
    for (let row = 0; rows.length < 160_000; row++)
      rows.push(`<row r="${row}"><c r="A${row}"><v>${(row * 7919) % 100_003}</v></c><t>é${row}</t></row>`);
    const large = Buffer.from(rows.join(''));
    expect(large.length).toBeGreaterThan(9 << 20);
    async function* pieces() {
      for (let at = 0; at < large.length; at += 300_001) yield large.subarray(at, at + 300_001);
    }
    async function* nothing(): AsyncGenerator<Buffer> {}
    await zip.addStream('xl/worksheets/sheet1.xml', pieces());
    await zip.addStream('xl/worksheets/empty.xml', nothing());
    await zip.finish();

    const entries = await readZip(Buffer.concat(archive));
    expect(entries.map((entry) => entry.name)).toEqual([
      'xl/worksheets/sheet1.xml',
      'xl/worksheets/empty.xml',
    ]);
    expect(entries[0]!.data.equals(large)).toBe(true);
    expect(entries[0]!.crc).toBe(crc32(large));
    expect(entries[1]!.data.length).toBe(0);
  });
});

function readZip(bytes: Buffer): Promise<{ name: string; data: Buffer; crc: number; compressed: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error) return reject(error);
      const entries: { name: string; data: Buffer; crc: number; compressed: number }[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (failure, stream) => {
          if (failure) return reject(failure);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({
              name: entry.fileName,
              data: Buffer.concat(chunks),
              crc: entry.crc32,
              compressed: entry.compressedSize,
            });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(entries));
      zip.readEntry();
    });
  });
}

describe('writeParquet', () => {
  const columns: ExportColumn[] = [
    { name: 'code', pgType: 'text', notNull: true, kind: 'string' },
    { name: 'points', pgType: 'bigint', notNull: false, kind: 'integer' },
    { name: 'puissance', pgType: 'double precision', notNull: false, kind: 'number' },
    { name: 'gratuit', pgType: 'boolean', notNull: false, kind: 'boolean' },
    { name: 'mise_en_service', pgType: 'date', notNull: false, kind: 'date' },
    { name: 'vu', pgType: 'timestamp with time zone', notNull: false, kind: 'datetime' },
  ];
  const types: CellType[] = ['text', 'int8', 'float', 'bool', 'date', 'time'];
  // More rows than a row group, and than the batches handed to the encoder: every fifth cell
  // null (but the key), dates at ±infinity null too.
  const count = ROW_GROUP_ROWS + 20_003;
  const cells = (row: number) => [
    Buffer.from(`FR*${row}*é`),
    row % 5 === 1 ? null : int8(BigInt(row)),
    row % 5 === 2 ? null : float8(row / 4),
    row % 5 === 3 ? null : Buffer.from([row % 2]),
    row % 5 === 4 ? null : int4(row % 7 === 0 ? 0x7fffffff : row % 1000),
    row % 5 === 0 ? null : int8(BigInt(row) * 1_000_000n),
  ];
  async function* batches(rows: number) {
    const parser = new BinaryCopyParser(columns.length);
    const copy = binaryCopy(Array.from({ length: rows }, (_, row) => cells(row)));
    for (let at = 0; at < copy.length; at += 65_536) {
      const batch = parser.push(copy.subarray(at, at + 65_536));
      if (batch.rows > 0) yield batch;
    }
    parser.finish();
  }

  it('writes typed columns with their nulls, in row groups, that a Parquet reader reads back', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'parquet-')), 'out.parquet');
    await writeParquet(batches(count), columns, types, file);
    const bytes = readFileSync(file);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const metadata = parquetMetadata(arrayBuffer);
    expect(Number(metadata.num_rows)).toBe(count);
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([ROW_GROUP_ROWS, 20_003]);
    const records = await parquetReadObjects({ file: arrayBuffer });
    const day = (days: number) => new Date((days + 10_957) * 86_400_000);
    for (const row of [0, 1, 2, 3, 4, 7, 8191, 8192, 8193, ROW_GROUP_ROWS, count - 1]) {
      expect(records[row]).toEqual({
        code: `FR*${row}*é`,
        points: row % 5 === 1 ? null : BigInt(row),
        puissance: row % 5 === 2 ? null : row / 4,
        gratuit: row % 5 === 3 ? null : row % 2 === 1,
        mise_en_service: row % 5 === 4 || row % 7 === 0 ? null : day(row % 1000),
        vu: row % 5 === 0 ? null : new Date(946_684_800_000 + row * 1000),
      });
    }
  });

  it("fails with the writer's own error (here: the file's folder is missing)", async () => {
    const file = path.join(tmpdir(), 'no-such-folder', 'out.parquet');
    await expect(writeParquet(batches(10), columns, types, file)).rejects.toThrow(
      /the Parquet writer failed: .*no-such-folder/,
    );
  });
});
