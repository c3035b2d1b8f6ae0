import { z } from 'zod';

/** What the Parquet worker is started with. */
export const parquetWorkerSetupSchema = z.object({
  /** The file to write. */
  file: z.string(),
  /** GeoParquet's `geo` metadata, when the relation has geometries. */
  geo: z.string().optional(),
  rowGroupRows: z.number().int().positive(),
});
export type ParquetWorkerSetup = z.infer<typeof parquetWorkerSetupSchema>;

/**
 * To the worker: a group of rows (one Arrow record batch as an IPC stream, the first `length`
 * bytes of a buffer shared with the reading thread), then the end.
 */
export const toParquetWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('group'),
    buffer: z.instanceof(SharedArrayBuffer),
    length: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('end') }),
]);
export type ToParquetWorker = z.infer<typeof toParquetWorkerSchema>;

/** From the worker: ready for a group (the shared buffer is free), the file written, or what failed. */
export const fromParquetWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('done') }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type FromParquetWorker = z.infer<typeof fromParquetWorkerSchema>;
