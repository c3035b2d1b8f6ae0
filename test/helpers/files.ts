import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import yazl from 'yazl';

/** Builders of real files in every format ingestion reads, written by real writer libraries. */
export const files = {
  gzip: (content: string | Buffer) => gzipSync(content),

  zip: async (entries: Record<string, string | Buffer>): Promise<Buffer> => {
    const zip = new yazl.ZipFile();
    for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.from(content), name);
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },

  xlsx: async (
    sheets: Record<string, unknown[][]>,
    build?: (workbook: ExcelJS.Workbook) => void,
  ): Promise<Buffer> => {
    const workbook = new ExcelJS.Workbook();
    for (const [name, rows] of Object.entries(sheets)) {
      const sheet = workbook.addWorksheet(name);
      for (const row of rows) sheet.addRow(row);
    }
    build?.(workbook);
    return Buffer.from(await workbook.xlsx.writeBuffer());
  },

  parquet: (columns: { name: string; data: unknown[]; type?: string }[]): Buffer =>
    Buffer.from(
      parquetWriteBuffer({ columnData: columns as Parameters<typeof parquetWriteBuffer>[0]['columnData'] }),
    ),
};

export const streamOf = (bytes: Buffer | string, chunkSize = 64 * 1024) => {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  return Readable.from(chunks);
};
