/**
 * The Parquet encoder's thread (see writeParquet): it takes the row groups as Arrow IPC from
 * the thread that reads the rows, encodes them with parquet-wasm and writes the file, so that
 * reading and encoding use two cores.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parentPort, workerData } from 'node:worker_threads';
import { parquetWorkerSetupSchema, toParquetWorkerSchema, type FromParquetWorker } from './parquet-messages';

async function main(): Promise<void> {
  const port = parentPort!;
  const setup = parquetWorkerSetupSchema.parse(workerData);
  const parquet = await import('parquet-wasm/node');
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setMaxRowGroupSize(setup.rowGroupRows)
    .setCreatedBy('datacycle (parquet-wasm)')
    .setKeyValueMetadata(new Map(setup.geo === undefined ? [] : [['geo', setup.geo]]))
    .build();
  const send = (message: FromParquetWorker) => port.postMessage(message);
  // Each pull asks the reading thread for a group and ends when it is in the stream: exactly
  // one group is asked for at a time, and the shared buffer is free again when it is asked.
  let arrived: (() => void) | undefined;
  let controller!: ReadableStreamDefaultController<unknown>;
  port.on('message', (raw: unknown) => {
    const message = toParquetWorkerSchema.parse(raw);
    if (message.type === 'end') controller.close();
    else {
      // Copied into the WebAssembly memory here: the buffer can take the next group.
      const table = parquet.Table.fromIPCStream(new Uint8Array(message.buffer, 0, message.length));
      for (const batch of table.recordBatches()) controller.enqueue(batch);
      table.free();
    }
    arrived?.();
  });
  const groups = new ReadableStream({
    start(streamController) {
      controller = streamController;
    },
    pull() {
      const next = new Promise<void>((resolve) => (arrived = resolve));
      send({ type: 'ready' });
      return next;
    },
  });
  const encoded = (await parquet.transformParquetStream(groups, properties)) as WebReadableStream<Uint8Array>;
  await pipeline(Readable.fromWeb(encoded), createWriteStream(setup.file));
  send({ type: 'done' });
}

main().catch((error: unknown) => {
  parentPort!.postMessage({
    type: 'error',
    message: error instanceof Error ? error.message : String(error),
  } satisfies FromParquetWorker);
});
