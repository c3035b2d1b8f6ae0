import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { csvExpression, jsonExpression, type ExportColumn } from './columns';

export type ExportFormat = 'csv' | 'xlsx' | 'geojson' | 'parquet';

export const mediaTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  geojson: 'application/geo+json',
  parquet: 'application/vnd.apache.parquet',
};

export interface CsvDialectOptions {
  delimiter: ',' | ';';
  /** A byte order mark, so that spreadsheet programs read UTF-8 right. */
  bom: boolean;
}

/** CSV straight from COPY (PostgreSQL formats and quotes it), with the chosen dialect. */
export async function writeCsv(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
  dialect: CsvDialectOptions,
  out: Writable,
): Promise<void> {
  if (dialect.bom) out.write('\uFEFF');
  const select = columns.map(
    (column) => `${csvExpression(column)} AS "${column.name.replaceAll('"', '""')}"`,
  );
  const delimiter = dialect.delimiter === ';' ? `';'` : `','`;
  await pipeline(
    client.query(
      copyTo(
        `COPY (SELECT ${select.join(', ')} FROM ${relation}) TO STDOUT (FORMAT csv, HEADER, DELIMITER ${delimiter})`,
      ),
    ),
    out,
  );
}

/**
 * The relation's rows as JSON objects, streamed: COPY writes one JSON document per line (the
 * csv format with a delimiter and quote that JSON never holds raw keeps them verbatim).
 */
export async function* jsonRows(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
): AsyncGenerator<Record<string, unknown>> {
  const select = columns.map(jsonExpression).join(', ');
  const copy = client.query(
    copyTo(
      `COPY (SELECT row_to_json(r)::text FROM (SELECT ${select} FROM ${relation}) AS r)
       TO STDOUT (FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')`,
    ),
  );
  const lines = createInterface({ input: copy, crlfDelay: Infinity });
  for await (const line of lines) if (line) yield JSON.parse(line) as Record<string, unknown>;
}

/** RFC 7946 FeatureCollection: the first geometry column is the geometry, the rest properties. */
export async function writeGeoJson(
  rows: AsyncIterable<Record<string, unknown>>,
  columns: ExportColumn[],
  out: Writable,
): Promise<void> {
  const geometry = columns.find((column) => column.kind === 'geometry')!.name;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('{"type":"FeatureCollection","features":[\n');
  let first = true;
  for await (const row of rows) {
    const { [geometry]: shape, ...properties } = row;
    await write(
      `${first ? '' : ',\n'}${JSON.stringify({ type: 'Feature', geometry: shape ?? null, properties })}`,
    );
    first = false;
  }
  await write('\n]}\n');
  out.end();
  await once(out, 'finish');
}

/** Parquet through hyparquet-writer, row group by row group; geometries as GEOMETRY (WKB). */
export async function writeParquet(
  rows: AsyncIterable<Record<string, unknown>>,
  columns: ExportColumn[],
  file: string,
): Promise<void> {
  const { fileWriter, parquetWriteRows } = await import('hyparquet-writer');
  const types = {
    string: 'STRING',
    integer: 'INT64',
    number: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'STRING',
    datetime: 'TIMESTAMP',
    geometry: 'GEOMETRY',
    json: 'JSON',
  } as const;
  async function* typed() {
    for await (const row of rows) {
      const out: Record<string, unknown> = {};
      for (const column of columns) {
        const value = row[column.name];
        out[column.name] =
          value === null || value === undefined
            ? null
            : column.kind === 'integer'
              ? BigInt(value as number)
              : column.kind === 'datetime'
                ? new Date(String(value))
                : value;
      }
      yield out;
    }
  }
  await parquetWriteRows({
    writer: fileWriter(file),
    rows: typed(),
    columns: columns.map((column) => ({ name: column.name, type: types[column.kind], nullable: true })),
    // Small row groups keep the column buffers (and the process) small.
    rowGroupSize: 10_000,
  });
}
