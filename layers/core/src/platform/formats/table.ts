import type { CsvRun } from './record-splitter';
import type { RunReading, RunTextReader } from './run-text';
import type { Delimiter, Encoding } from './sniff';

export type FileFormat = 'csv' | 'xlsx' | 'json' | 'ndjson' | 'geojson' | 'parquet';

/** One table read from a file: every format comes out as a header and rows of text cells. */
export interface DataTable {
  /** The file's name, or the member's name inside a zip archive. */
  name: string;
  format: FileFormat;
  /** Compression or container around the table, outermost first (e.g. ['zip'], ['gzip']). */
  containers: ('gzip' | 'zip')[];
  dialect?: CsvDialect;
  /** For XLSX: the sheet read. */
  sheet?: string;
  header: string[];
  /**
   * The cells are UTF-8 bytes held one per character (see utf8-bytes.ts): only a CSV file in
   * UTF-8 opened with csv.utf8Bytes. The header is text either way.
   */
  utf8Bytes?: boolean;
  /** Data rows in batches (a row at a time costs more than the row), numbered from 2 (the header is row 1). */
  batches: AsyncIterable<RowBatch>;
  /**
   * CSV only: the same rows, the runs of records still unparsed, for validation in worker
   * threads. Read either this or `batches`, never both: they share the file.
   */
  csvRuns?: CsvRuns;
}

/**
 * Rows that travel together. A CSV run's batch knows the text its cells were cut from, and
 * where each cell's value starts in it (in reading order, -1 for a quoted cell that held a
 * doubled quote; TableRow.firstCell is the index of a row's first): encoders copy unchanged
 * cells from its bytes.
 */
export type RowBatch = TableRow[] & {
  source?: {
    text: string;
    /** The text's own bytes, one per character, when the run's bytes are (see RunText). */
    bytes?: Uint8Array;
    starts: Int32Array;
  };
};

export interface TableRow {
  /** 1-based row number in the file (for a spreadsheet, the sheet's own row number). */
  rowNumber: number;
  cells: string[];
  /** Where the row's first cell is in its batch's source.starts. */
  firstCell?: number;
}

const BATCH_ROWS = 1000;

/** Groups rows produced one at a time (JSON, XLSX) into batches. */
export async function* inBatches(rows: AsyncIterable<TableRow>): AsyncGenerator<RowBatch> {
  let batch: TableRow[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The rows of a table one at a time, for readers that do not need speed (inference, tests). */
export async function* eachRow(table: Pick<DataTable, 'batches'>): AsyncGenerator<TableRow> {
  for await (const batch of table.batches) yield* batch;
}

/** Text of a JSON/XLSX/Parquet value, as a CSV cell would hold it ('' for nothing). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return isoDateOrDateTime(value);
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? Number(inner) : inner));
}

/** A date without a time of day is a date; otherwise a UTC datetime. */
export function isoDateOrDateTime(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
}

/**
 * Rows from records (JSON objects): the first record's keys make the header; a later key
 * not in the header becomes an extra cell, so the validator reports it.
 */
export async function recordsToTable(
  records: AsyncIterator<Record<string, unknown>>,
  describe: Omit<DataTable, 'header' | 'batches'>,
): Promise<DataTable> {
  const first = await records.next();
  const header = first.done ? [] : Object.keys(first.value);
  const known = new Set(header);
  const toCells = (record: Record<string, unknown>) => {
    const cells = header.map((key) => cellText(record[key]));
    for (const key of Object.keys(record)) if (!known.has(key)) cells.push(cellText(record[key]));
    return cells;
  };
  async function* rows(): AsyncGenerator<TableRow> {
    if (first.done) return;
    let rowNumber = 2;
    yield { rowNumber, cells: toCells(first.value) };
    for (;;) {
      const next = await records.next();
      if (next.done) return;
      yield { rowNumber: ++rowNumber, cells: toCells(next.value) };
    }
  }
  return { ...describe, header, batches: inBatches(rows()) };
}

export interface CsvDialect {
  encoding: Encoding;
  delimiter: Delimiter;
}

/**
 * The data of a CSV table as runs of records still to parse (with parseCsvRun), so that
 * they can be parsed and validated in other threads: the rows parsed with the header, then
 * the rest of the runs.
 */
export interface CsvRuns {
  delimiter: Delimiter;
  /** How the runs' bytes are read (a worker makes its own reader: see runTextReader). */
  reading: RunReading;
  read: RunTextReader;
  /** Takes back a run that nothing reads any more, for its buffer (see RecordSplitter.recycle). */
  recycle(run: CsvRun): void;
  parsed: RowBatch;
  rest: AsyncIterable<CsvRun>;
}
