import v8 from 'node:v8';
import type { FileMetaData } from 'hyparquet';
import { TerminalError } from '../errors/errors';
import { cellText, type DataTable, type RowBatch } from './table';

type Describe = Omit<DataTable, 'header' | 'batches'>;

/** Memory a cell takes once read (a string and its slot in a row object), measured on IRVE files. */
const BYTES_PER_CELL = 64;

/** Rows read at once take about this much (estimated); a larger row group is read in slices. */
const SLICE_BYTES = 64 * 1024 ** 2;
/** The smallest slice: below it, reading a row range costs more than it saves. */
const MIN_SLICE_ROWS = 1_000;

/**
 * Reads a Parquet file as text cells, a slice of rows at a time: a whole row group when it is
 * small, else ranges of rows sized to about SLICE_BYTES of cells. Writers make groups of up to
 * 1M rows: read whole, one 2M-row group of a 111 KB file took 566 MB (now 380 MB), a 1M-row
 * group of 10 columns 1,093 MB (now 580 MB, 25 % slower). hyparquet still decodes a column
 * chunk whole for each range, so smaller slices (or one column at a time) cost time without
 * saving much; groups of 100k rows are what keeps a reader small (docs/reliability.md). Any codec Parquet names (snappy, gzip, zstd, brotli,
 * lz4). A file so wide that even MIN_SLICE_ROWS rows would not fit in `memoryBudget` bytes is
 * refused before any row is read, rather than exhausting the function's memory.
 */
export async function openParquet(
  file: string,
  describe: Describe,
  memoryBudget = v8.getHeapStatistics().heap_size_limit / 2,
): Promise<DataTable> {
  // Loaded on first use, like exceljs: most files are not Parquet.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } =
    await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new TerminalError(`the Parquet file cannot be read: ${(error as Error).message}`);
  }
  const header = parquetSchema(metadata).children.map((child) => child.element.name);
  const rowBytes = Math.max(1, header.length) * BYTES_PER_CELL;
  const rowsAtOnce = Math.max(MIN_SLICE_ROWS, Math.floor(Math.min(memoryBudget, SLICE_BYTES) / rowBytes));
  metadata.row_groups.forEach((group, index) => {
    const needed = Math.min(Number(group.num_rows), MIN_SLICE_ROWS) * rowBytes;
    if (needed > memoryBudget) {
      const size = (bytes: number) =>
        bytes >= 10 * 1024 ** 2 ? `${Math.ceil(bytes / 1024 ** 2)} MB` : `${Math.ceil(bytes / 1024)} KB`;
      throw new TerminalError(
        `row group ${index + 1} of the Parquet file holds ${group.num_rows} rows of ${header.length} columns: reading ${Math.min(Number(group.num_rows), MIN_SLICE_ROWS)} of them at once takes about ${size(needed)}, more than the ${size(memoryBudget)} available`,
        'give the ingest function more memory (ingest.memoryMb), or split the columns into several files',
      );
    }
  });
  async function* batches(): AsyncGenerator<RowBatch> {
    let rowNumber = 1;
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      for (let from = start; from < end; from += rowsAtOnce) {
        const to = Math.min(end, from + rowsAtOnce);
        const records = await parquetReadObjects({
          file: buffer,
          metadata,
          rowStart: from,
          rowEnd: to,
          compressors,
        }).catch((error: Error) => {
          throw new TerminalError(
            `the Parquet file cannot be read at rows ${from + 1}-${to}: ${error.message}`,
            'write it again with pyarrow, DuckDB or polars; a file cut short or damaged cannot be read',
          );
        });
        yield records.map((record) => ({
          rowNumber: ++rowNumber,
          cells: header.map((name) => cellText(record[name])),
        }));
      }
      start = end;
    }
  }
  return { ...describe, header, batches: batches() };
}
