import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { csvExpression, type ExportColumn } from './columns';

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

/** YYYY-MM-DD of a day number (days since 1970-01-01), remembered: dates repeat down a column. */
export function dayText(): (days: number) => string {
  const known = new Map<number, string>();
  return (days) => {
    let text = known.get(days);
    if (text === undefined) {
      if (known.size > 10_000) known.clear();
      text = new Date(days * 86_400_000).toISOString().slice(0, 10);
      known.set(days, text);
    }
    return text;
  };
}
