import v8 from 'node:v8';
import type { FileMetaData } from 'hyparquet';
import { TerminalError } from '../errors/errors';
import { cellText, type DataTable, type RowBatch } from './table';

type Describe = Omit<DataTable, 'header' | 'batches'>;

/** Memory a cell takes once read (a string and its slot in a row object), measured on IRVE files. */
const BYTES_PER_CELL = 64;

/**
 * Reads a Parquet file one row group at a time, values as text cells. A row group is read
 * whole (hyparquet decodes column chunks entirely), so a file whose groups would not fit in
 * `memoryBudget` bytes is refused with a message before any row is read, rather than
 * exhausting the function's memory.
 */
export async function openParquet(
  file: string,
  describe: Describe,
  memoryBudget = v8.getHeapStatistics().heap_size_limit / 2,
): Promise<DataTable> {
  // Loaded on first use, like exceljs: most files are not Parquet.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } =
    await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new TerminalError(`the Parquet file cannot be read: ${(error as Error).message}`);
  }
  const header = parquetSchema(metadata).children.map((child) => child.element.name);
  metadata.row_groups.forEach((group, index) => {
    const needed = Number(group.num_rows) * header.length * BYTES_PER_CELL;
    if (needed > memoryBudget) {
      const size = (bytes: number) =>
        bytes >= 10 * 1024 ** 2 ? `${Math.ceil(bytes / 1024 ** 2)} MB` : `${Math.ceil(bytes / 1024)} KB`;
      throw new TerminalError(
        `row group ${index + 1} of the Parquet file holds ${group.num_rows} rows of ${header.length} columns: reading it takes about ${size(needed)}, more than the ${size(memoryBudget)} available`,
        'write the file with smaller row groups (pyarrow: row_group_size=100_000; DuckDB: ROW_GROUP_SIZE 100000), or give the ingest function more memory',
      );
    }
  });
  async function* batches(): AsyncGenerator<RowBatch> {
    let rowNumber = 1;
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      const records = await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: end });
      yield records.map((record) => ({
        rowNumber: ++rowNumber,
        cells: header.map((name) => cellText(record[name])),
      }));
      start = end;
    }
  }
  return { ...describe, header, batches: batches() };
}
