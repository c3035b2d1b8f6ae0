import type { FileMetaData } from 'hyparquet';
import { TerminalError } from '../errors';
import { cellText, type DataTable, type TableRow } from './table';

type Describe = Omit<DataTable, 'header' | 'batches'>;

/** Reads a Parquet file one row group at a time (bounded memory), values as text cells. */
export async function openParquet(file: string, describe: Describe): Promise<DataTable> {
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
  async function* batches(): AsyncGenerator<TableRow[]> {
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
