import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type FileMetaData,
} from 'hyparquet';
import { TerminalError } from '../errors';
import { cellText, type DataTable } from './table';

type Describe = Omit<DataTable, 'header' | 'rows'>;

/** Reads a Parquet file one row group at a time (bounded memory), values as text cells. */
export async function openParquet(file: string, describe: Describe): Promise<DataTable> {
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new TerminalError(`the Parquet file cannot be read: ${(error as Error).message}`);
  }
  const header = parquetSchema(metadata).children.map((child) => child.element.name);
  async function* rows() {
    let rowNumber = 1;
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      const records = await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: end });
      for (const record of records)
        yield { rowNumber: ++rowNumber, cells: header.map((name) => cellText(record[name])) };
      start = end;
    }
  }
  return { ...describe, header, rows: rows() };
}
