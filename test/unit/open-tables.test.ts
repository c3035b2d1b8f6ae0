import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachRow, MAX_WORKBOOK_PARTS, openTables, type OpenOptions } from '@datacycle/core';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { files, streamOf } from '../helpers/files';

async function read(bytes: Buffer | string, options: Partial<OpenOptions> = {}) {
  const tables = [];
  for await (const table of openTables(streamOf(bytes, 1000), { name: 'file', ...options })) {
    const rows: string[][] = [];
    for await (const row of eachRow(table)) rows.push(row.cells);
    tables.push({
      name: table.name,
      format: table.format,
      containers: table.containers,
      sheet: table.sheet,
      header: table.header,
      rows,
    });
  }
  return tables;
}

const csv = 'code,nom\n45,Loiret\n2A,Corse-du-Sud\n';

describe('openTables', () => {
  it('reads a gzip-compressed CSV, whatever its name', async () => {
    const [table] = await read(files.gzip(csv), { name: 'communes.bin' });
    expect(table).toMatchObject({
      format: 'csv',
      containers: ['gzip'],
      header: ['code', 'nom'],
      rows: [
        ['45', 'Loiret'],
        ['2A', 'Corse-du-Sud'],
      ],
    });
  });

  it('reads every file of a zip archive, skipping folders and system files', async () => {
    const zip = await files.zip({
      'a.csv': csv,
      'sub/b.csv': 'code,nom\n01,Ain\n',
      '__MACOSX/._a.csv': 'junk',
      '.DS_Store': 'junk',
    });

    const tables = await read(zip, { name: 'bundle.zip' });

    expect(tables.map((t) => [t.name, t.containers, t.rows.length])).toEqual([
      ['a.csv', ['zip'], 2],
      ['sub/b.csv', ['zip'], 1],
    ]);
  });

  it('refuses a zip bomb: declared expansion over the limit', async () => {
    const bomb = await files.zip({ 'zeros.csv': Buffer.alloc(30 * 1024 * 1024, 0x30) });
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expect(read(bomb, { maxUncompressedBytes: 10 * 1024 * 1024 })).rejects.toThrow(
      /expands to 31457280 bytes, more than 10485760/,
    );
  });

  it('refuses a gzip bomb while decompressing', async () => {
    const bomb = files.gzip('code,nom\n' + '45,Loiret\n'.repeat(300_000));
    await expect(read(bomb, { name: 'communes.csv.gz', maxUncompressedBytes: 1024 * 1024 })).rejects.toThrow(
      /communes\.csv\.gz expands to more than 1048576 bytes/,
    );
  });

  it('reads a JSON array of records, values as text', async () => {
    const [table] = await read(
      JSON.stringify([
        { code: '45', pop: 680000, actif: true, tags: ['a'] },
        { code: '2A', pop: null },
      ]),
    );
    expect(table).toMatchObject({
      format: 'json',
      header: ['code', 'pop', 'actif', 'tags'],
      rows: [
        ['45', '680000', 'true', '["a"]'],
        ['2A', '', '', ''],
      ],
    });
  });

  it('reads NDJSON and reports a broken line by its number', async () => {
    const [table] = await read('{"code":"45"}\n\n{"code":"2A"}\n');
    expect(table).toMatchObject({ format: 'ndjson', rows: [['45'], ['2A']] });
    await expect(read('{"code":"45"}\n{"code":\n')).rejects.toThrow(/line 2 is not valid JSON/);
  });

  it('reads a GeoJSON FeatureCollection as properties plus a geometry column', async () => {
    const geojson = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { code: '45' },
          geometry: { type: 'Point', coordinates: [1.9, 47.9] },
        },
      ],
    };
    const [table] = await read(JSON.stringify(geojson));
    expect(table).toMatchObject({
      format: 'geojson',
      header: ['code', 'geometry'],
      rows: [['45', '{"type":"Point","coordinates":[1.9,47.9]}']],
    });
  });

  it('refuses a single JSON object, an HTML page and truncated JSON, each with a reason', async () => {
    await expect(read('{"records": []}')).rejects.toThrow(/single JSON object, not a table/);
    await expect(read('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>')).rejects.toThrow(
      /HTML page/,
    );
    await expect(read('[{"code":"45"},{"code":')).rejects.toThrow(/invalid JSON/);
  });

  it('reads an XLSX sheet with real dates, formula results and rich text', async () => {
    const xlsx = await files.xlsx(
      {
        Notes: [['ignored']],
        Données: [
          ['code', 'mise_en_service', 'total', 'note'],
          ['45', new Date(Date.UTC(2020, 0, 14)), 3],
        ],
      },
      (workbook) => {
        const sheet = workbook.getWorksheet('Données')!;
        sheet.getCell('C2').value = { formula: '1+2', result: 3 };
        sheet.getCell('A3').value = { richText: [{ text: '2' }, { text: 'A' }] };
        sheet.getCell('B3').value = new Date(Date.UTC(2021, 3, 5));
        sheet.getCell('B3').numFmt = 'dd/mm/yyyy';
        sheet.getCell('D2').value = 'commentaire'; // row 3 has no D cell: empty cells are holes
      },
    );

    const [table] = await read(xlsx, { name: 'irve.xlsx', sheet: 2 });

    expect(table).toMatchObject({ format: 'xlsx', header: ['code', 'mise_en_service', 'total', 'note'] });
    expect(table!.rows).toEqual([
      ['45', '2020-01-14', '3', 'commentaire'],
      ['2A', '2021-04-05', '', ''],
    ]);
  });

  it('names the sheets when the requested one does not exist', async () => {
    const xlsx = await files.xlsx({ Un: [['a']], Deux: [['b']] });
    await expect(read(xlsx, { sheet: 'Trois' })).rejects.toThrow(/no sheet "Trois"/);
  });

  it('reads a row group larger than memory allows in slices of rows, in order', async () => {
    const rows = 12_000;
    const parquet = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'code', data: Array.from({ length: rows }, (_, index) => String(index)), type: 'STRING' },
          { name: 'population', data: Array.from({ length: rows }, (_, index) => index), type: 'INT32' },
        ],
        rowGroupSize: rows,
      }),
    );
    // 12,000 rows of 2 columns in one group, a budget for about 2,000 at once: six slices.
    const [table] = await read(parquet, { name: 'one-group.parquet', parquetMemoryBudget: 2_000 * 2 * 64 });
    expect(table!.rows).toHaveLength(rows);
    expect(table!.rows.map((row) => Number(row[0]))).toEqual(
      Array.from({ length: rows }, (_, index) => index),
    );
  });

  it('refuses a Parquet file whose row groups would not fit in memory, naming the group and the fix', async () => {
    const rows = 5000;
    const parquet = files.parquet([
      { name: 'code', data: Array.from({ length: rows }, (_, index) => String(index)), type: 'STRING' },
      { name: 'population', data: Array.from({ length: rows }, () => 1), type: 'INT32' },
    ]);
    // hyparquet-writer writes groups of 1000 rows at first.
    await expect(read(parquet, { name: 'big.parquet', parquetMemoryBudget: 50_000 })).rejects.toThrow(
      /row group 1 of the Parquet file holds 1000 rows of 2 columns: reading 1000 of them at once takes about 125 KB, more than the 49 KB available/,
    );
    const [table] = await read(parquet, { name: 'big.parquet' });
    expect(table!.rows).toHaveLength(rows);
  });

  it.each(['zstd', 'brotli', 'lz4', 'gzip'])(
    'reads Parquet compressed with %s (pyarrow, polars, DuckDB)',
    async (codec) => {
      const parquet = readFileSync(
        path.join(import.meta.dirname, `../fixtures/formats/communes-${codec}.parquet`),
      );
      const [table] = await read(parquet, { name: `communes-${codec}.parquet` });
      expect(table).toMatchObject({
        header: ['code', 'population'],
        rows: [
          ['45', '680000'],
          ['2A', '160000'],
          ['75', '2100000'],
        ],
      });
    },
  );

  it('reads Parquet row groups', async () => {
    const parquet = files.parquet([
      { name: 'code', data: ['45', '2A'], type: 'STRING' },
      { name: 'population', data: [680000, 160000], type: 'INT32' },
    ]);
    const [table] = await read(parquet, { name: 'communes.parquet' });
    expect(table).toMatchObject({
      format: 'parquet',
      header: ['code', 'population'],
      rows: [
        ['45', '680000'],
        ['2A', '160000'],
      ],
    });
  });
});

describe('hostile input: caps that keep memory bounded, each named in its error', () => {
  const refusal = async (bytes: string, name: string) => {
    try {
      await read(bytes, { name });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('a CSV record of more than 16,384 cells (one line of millions of columns)', async () => {
    const line = Array.from({ length: 20_000 }, () => 'c').join(',');
    expect(await refusal(`${line}\n${line}\n`, 'wide.csv')).toMatch(
      /line 1: more than 16,384 cells on one record \(the cap on columns/,
    );
  });

  it('an XLSX whose shared strings (held in memory) exceed the cap, and one that expands past the archive cap', async () => {
    const xlsx = await files.xlsx({
      data: [['code', 'nom'], ...Array.from({ length: 200 }, (_, i) => [`c${i}`, `nom ${i}`])],
    });
    await expect(read(xlsx, { name: 'big.xlsx', maxSharedStringsBytes: 1000 })).rejects.toThrow(
      /the workbook's shared strings take \d+ bytes, more than 1000: they are held in memory/,
    );
    await expect(read(xlsx, { name: 'big.xlsx', maxUncompressedBytes: 2000 })).rejects.toThrow(
      /the workbook expands to \d+ bytes, more than 2000/,
    );
    // Under the caps, the same workbook reads.
    const [table] = await read(xlsx, { name: 'big.xlsx' });
    expect(table!.rows).toHaveLength(200);
  });

  it('a workbook of more parts than any workbook has (the archive cap on entries)', async () => {
    const parts: Record<string, string> = {
      '[Content_Types].xml': '<Types/>',
      'xl/workbook.xml': '<workbook/>',
    };
    for (let i = 0; i < MAX_WORKBOOK_PARTS; i++) parts[`xl/media/image${i}.png`] = '';
    await expect(read(await files.zip(parts), { name: 'parts.xlsx' })).rejects.toThrow(
      `the workbook holds ${MAX_WORKBOOK_PARTS + 2} parts, more than ${MAX_WORKBOOK_PARTS}`,
    );
  });

  it('a workbook the reader cannot make sense of: refused with what to do, not a stack trace', async () => {
    // A workbook part that is not XML: the reader fails inside; the error says what to do.
    await expect(
      read(await files.zip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': 'not xml at all <' }), {
        name: 'broken.xlsx',
      }),
    ).rejects.toThrow(/the workbook (could not be read|has no sheet)/);
  });

  it('JSON rows nested deeper than 256 levels, in an array and in NDJSON', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(await refusal(`[{"a": ${deep}, "b": 1}]`, 'rows.json')).toMatch(/nested more than 256 levels/);
    expect(await refusal(`{"a": 1}\n{"a": ${deep}}\n`, 'rows.ndjson')).toMatch(
      /line 2 is nested more than 256 levels deep/,
    );
  });

  it('an NDJSON line longer than 16 MiB is refused before it is whole', async () => {
    const long = `{"a": 1}\n{"a": "${'x'.repeat(17 * 1024 * 1024)}"}\n`;
    expect(await refusal(long, 'rows.ndjson')).toMatch(/line 2 is longer than 16,777,216 characters/);
  });
});
