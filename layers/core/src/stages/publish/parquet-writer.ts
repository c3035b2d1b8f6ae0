import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../platform/workers';
import { zoned, type ExportColumn } from './columns';
import { unixDays, unixMicros, type CellBatch, type CellType } from './copy-rows';
import { fromParquetWorkerSchema, type ParquetWorkerSetup, type ToParquetWorker } from './parquet-messages';

/** What GeoParquet says of one geometry column: its geometry types and bounding box (EPSG:4326). */
export interface GeometryColumnFacts {
  /** GeoParquet's names: Point, LineString, Polygon, MultiPoint, …; empty when unknown. */
  geometryTypes: string[];
  /** [xmin, ymin, xmax, ymax], absent for a column with no geometry. */
  bbox?: [number, number, number, number];
}

/** The version of the GeoParquet specification the exports follow. */
export const GEOPARQUET_VERSION = '1.1.0';

/**
 * The `geo` file metadata of GeoParquet 1.1: each geometry column WKB-encoded, with its
 * geometry types and bounding box; no `crs`, which GeoParquet reads as OGC:CRS84 (longitude,
 * latitude on WGS 84): the warehouse keeps every geometry in EPSG:4326, longitude first.
 */
export function geoParquetMetadata(geometries: Record<string, GeometryColumnFacts>): string | undefined {
  const names = Object.keys(geometries);
  if (names.length === 0) return undefined;
  return JSON.stringify({
    version: GEOPARQUET_VERSION,
    primary_column: names[0],
    columns: Object.fromEntries(
      names.map((name) => {
        const facts = geometries[name]!;
        return [
          name,
          {
            encoding: 'WKB',
            geometry_types: facts.geometryTypes,
            ...(facts.bbox ? { bbox: facts.bbox } : {}),
          },
        ];
      }),
    ),
  });
}

/** Rows per row group of the file: what Parquet readers skip or read at a time. */
export const ROW_GROUP_ROWS = 65_536;

/**
 * Rows per Arrow record batch handed to the encoder: it encodes each batch into the pages of
 * the row group being written, so only the batch in flight is held raw (~4 MB of IRVE rows).
 */
const BATCH_ROWS = 8_192;

type Arrow = typeof import('apache-arrow');

/**
 * One column of the row group being filled, in Arrow's own layout, copied straight from the
 * bytes of COPY's binary rows: no JavaScript string or object per cell.
 */
abstract class ColumnBuilder {
  protected rows = 0;
  protected nulls = 0;
  protected validity = new Uint8Array(BATCH_ROWS >> 3);

  /** Appends the cell `index` of the batch (its bytes, or a null). */
  append(batch: CellBatch, index: number): void {
    const length = batch.lengths[index]!;
    if (length >= 0 && this.appendValue(batch.buffer, batch.starts[index]!, length))
      this.validity[this.rows >> 3]! |= 1 << (this.rows & 7);
    else {
      this.nulls++;
      this.appendNull();
    }
    this.rows++;
  }

  /** Appends a value; false when it has none in Parquet (then it is appended as a null). */
  protected abstract appendValue(buffer: Buffer, start: number, length: number): boolean;
  protected abstract appendNull(): void;
  abstract arrowType(arrow: Arrow): import('apache-arrow').DataType;
  /**
   * The group's Arrow data, then the builder starts the next group empty, in the same
   * buffers: the data is a view of them, to serialise before the next append.
   */
  abstract take(arrow: Arrow): import('apache-arrow').Data;

  protected reset(): { length: number; nullCount: number; nullBitmap: Uint8Array | undefined } {
    const taken = {
      length: this.rows,
      nullCount: this.nulls,
      nullBitmap: this.nulls > 0 ? this.validity.slice(0, (this.rows + 7) >> 3) : undefined,
    };
    this.rows = 0;
    this.nulls = 0;
    this.validity.fill(0);
    return taken;
  }
}

/** Text (UTF-8 as PostgreSQL sent it) or bytes (WKB): offsets and one growing byte buffer. */
class VariableBuilder extends ColumnBuilder {
  private offsets = new Int32Array(BATCH_ROWS + 1);
  private data = new Uint8Array(1 << 16);
  private used = 0;

  constructor(private readonly binary: boolean) {
    super();
  }

  protected appendValue(buffer: Buffer, start: number, length: number): boolean {
    if (this.used + length > this.data.length) {
      const grown = new Uint8Array(Math.max(this.data.length * 2, this.used + length));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    const data = this.data;
    let at = this.used;
    // Most cells are short: a loop beats a native copy's call for them.
    if (length < 32) for (let byte = start; byte < start + length; byte++) data[at++] = buffer[byte]!;
    else {
      buffer.copy(data, at, start, start + length);
      at += length;
    }
    this.used = at;
    this.offsets[this.rows + 1] = at;
    return true;
  }

  protected appendNull(): void {
    this.offsets[this.rows + 1] = this.used;
  }

  arrowType(arrow: Arrow) {
    return this.binary ? new arrow.Binary() : new arrow.Utf8();
  }

  take(arrow: Arrow) {
    const { length, nullCount, nullBitmap } = this.reset();
    const props = {
      length,
      nullCount,
      nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1),
      data: this.data.subarray(0, this.used),
    };
    const data = this.binary
      ? arrow.makeData({ type: new arrow.Binary(), ...props })
      : arrow.makeData({ type: new arrow.Utf8(), ...props });
    this.used = 0;
    return data;
  }
}

/** What a fixed-width column's group becomes in Arrow (each type has its own makeData). */
interface GroupProps<Values> {
  length: number;
  nullCount: number;
  nullBitmap: Uint8Array | undefined;
  values: Values;
}

/** Fixed-width values, decoded from COPY's big-endian bytes into a typed array. */
class FixedBuilder<
  Values extends Int32Array | Float64Array | BigInt64Array | Uint8Array,
> extends ColumnBuilder {
  private values: Values;

  /** `decode` answers undefined for a value Parquet cannot hold (a date at ±infinity). */
  constructor(
    make: (length: number) => Values,
    private readonly decode: (buffer: Buffer, start: number) => Values[number] | undefined,
    private readonly type: (arrow: Arrow) => import('apache-arrow').DataType,
    private readonly data: (arrow: Arrow, group: GroupProps<Values>) => import('apache-arrow').Data,
  ) {
    super();
    this.values = make(BATCH_ROWS);
  }

  protected appendValue(buffer: Buffer, start: number): boolean {
    const value = this.decode(buffer, start);
    if (value === undefined) return false;
    this.values[this.rows] = value;
    return true;
  }

  protected appendNull(): void {}

  arrowType(arrow: Arrow) {
    return this.type(arrow);
  }

  take(arrow: Arrow) {
    const { length, nullCount, nullBitmap } = this.reset();
    return this.data(arrow, {
      length,
      nullCount,
      nullBitmap,
      values: this.values.subarray(0, length) as Values,
    });
  }
}

/** Arrow's booleans are bits. */
function packBits(bytes: Uint8Array): Uint8Array {
  const bits = new Uint8Array((bytes.length + 7) >> 3);
  for (let index = 0; index < bytes.length; index++) if (bytes[index]) bits[index >> 3]! |= 1 << (index & 7);
  return bits;
}

function builderOf(column: ExportColumn, type: CellType): ColumnBuilder {
  switch (type) {
    case 'int8':
      return new FixedBuilder(
        (n) => new BigInt64Array(n),
        (buffer, start) => buffer.readBigInt64BE(start),
        (arrow) => new arrow.Int64(),
        (arrow, { values, ...group }) => arrow.makeData({ type: new arrow.Int64(), ...group, data: values }),
      );
    case 'float':
      return new FixedBuilder(
        (n) => new Float64Array(n),
        (buffer, start) => buffer.readDoubleBE(start),
        (arrow) => new arrow.Float64(),
        (arrow, { values, ...group }) =>
          arrow.makeData({ type: new arrow.Float64(), ...group, data: values }),
      );
    case 'bool':
      return new FixedBuilder(
        (n) => new Uint8Array(n),
        (buffer, start) => buffer[start]!,
        (arrow) => new arrow.Bool(),
        (arrow, { values, ...group }) =>
          arrow.makeData({ type: new arrow.Bool(), ...group, data: packBits(values) }),
      );
    case 'date':
      // ±infinity: nulls, as in the other formats.
      return new FixedBuilder(
        (n) => new Int32Array(n),
        (buffer, start) => unixDays(buffer.readInt32BE(start)) ?? undefined,
        (arrow) => new arrow.DateDay(),
        (arrow, { values, ...group }) =>
          arrow.makeData({ type: new arrow.DateDay(), ...group, data: values }),
      );
    case 'time': {
      // Microseconds, PostgreSQL's own precision; an instant (timestamptz) is marked UTC, a
      // wall-clock time (timestamp) is left without a zone.
      const zone = zoned(column) ? 'UTC' : null;
      return new FixedBuilder(
        (n) => new BigInt64Array(n),
        (buffer, start) => unixMicros(buffer.readBigInt64BE(start)) ?? undefined,
        (arrow) => new arrow.TimestampMicrosecond(zone),
        (arrow, { values, ...group }) =>
          arrow.makeData({ type: new arrow.TimestampMicrosecond(zone), ...group, data: values }),
      );
    }
    case 'bytes':
      return new VariableBuilder(true);
    case 'text':
      return new VariableBuilder(false);
  }
}

/**
 * Parquet through parquet-wasm (Apache Arrow's Rust Parquet writer compiled to WebAssembly):
 * copyRows's batches (columns read with copiedColumn(…, { geometry: 'wkb', numbers: 'typed' }),
 * their `types`) are copied into Arrow columns, a row group at a time, and handed as Arrow IPC
 * to a worker thread (parquet-worker.ts) that encodes them (dictionary where it pays,
 * statistics, Snappy) and writes the file while this thread reads the next group. Integers
 * INT64, numbers DOUBLE, dates DATE, timestamps TIMESTAMP(MICROS), text and JSON STRING;
 * geometries as the WKB PostGIS writes (ST_AsBinary) with the GeoParquet metadata (`geo`)
 * that GIS tools (QGIS, GDAL, DuckDB spatial, GeoPandas) read.
 */
export async function writeParquet(
  batches: AsyncIterable<CellBatch>,
  columns: ExportColumn[],
  types: CellType[],
  file: string,
  geometries: Record<string, GeometryColumnFacts> = {},
): Promise<void> {
  const arrow = await import('apache-arrow');
  const builders = columns.map((column, index) => builderOf(column, types[index]!));
  const fields = columns.map(
    (column, index) => new arrow.Field(column.name, builders[index]!.arrowType(arrow), !column.notNull),
  );
  const schema = new arrow.Schema(fields);
  const encoder = new ParquetEncoder({
    file,
    geo: geoParquetMetadata(geometries),
    rowGroupRows: ROW_GROUP_ROWS,
  });
  let filled = 0;
  /** The filled group, as one record batch in an Arrow IPC stream. */
  const group = () => {
    const batch = new arrow.RecordBatch(
      schema,
      arrow.makeData({
        type: new arrow.Struct(fields),
        length: filled,
        nullCount: 0,
        children: builders.map((builder) => builder.take(arrow)),
      }),
    );
    filled = 0;
    return arrow.tableToIPC(new arrow.Table(schema, [batch]), 'stream');
  };
  try {
    for await (const batch of batches) {
      const width = batch.columns;
      for (let next = 0; next < batch.rows;) {
        const take = Math.min(batch.rows - next, BATCH_ROWS - filled);
        // Column by column: each builder's loop stays on one kind of cell.
        for (let column = 0; column < width; column++) {
          const builder = builders[column]!;
          const end = (next + take) * width;
          for (let index = next * width + column; index < end; index += width) builder.append(batch, index);
        }
        next += take;
        filled += take;
        if (filled === BATCH_ROWS) await encoder.send(group());
      }
    }
    if (filled > 0) await encoder.send(group());
    await encoder.finish();
  } catch (error) {
    await encoder.stop();
    throw error;
  }
}

/**
 * The Parquet worker seen from the reading thread. Groups go through one shared buffer (the
 * worker copies each into its WebAssembly memory, then asks for the next): no buffer per group
 * waits for a garbage collection in a thread that hardly allocates. finish() resolves once
 * the file is written.
 */
class ParquetEncoder {
  private readonly worker: Worker;
  private readonly settled: Promise<void>;
  private shared = new SharedArrayBuffer(8 << 20);
  private ready = false;
  private wakeUp: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(setup: ParquetWorkerSetup) {
    // esbuild leaves import.meta empty in a CommonJS bundle.
    this.worker = startWorker('parquet-worker', import.meta.url as string | undefined, {
      workerData: setup,
      // It allocates little on its heap (the data lives in WebAssembly memory).
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.settled = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        this.failure ??= error;
        this.wakeUp?.();
        reject(error);
      };
      this.worker.on('message', (raw: unknown) => {
        const message = fromParquetWorkerSchema.parse(raw);
        if (message.type === 'ready') {
          this.ready = true;
          this.wakeUp?.();
        } else if (message.type === 'done') resolve();
        else fail(new Error(`the Parquet writer failed: ${message.message}`));
      });
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`the Parquet writer stopped (exit code ${code})`)));
    });
    // Seen by send() or finish(); never an unhandled rejection meanwhile.
    this.settled.catch(() => undefined);
  }

  /** Sends a group once the worker has taken the previous one out of the shared buffer. */
  async send(ipc: Uint8Array): Promise<void> {
    while (!this.ready && this.failure === undefined)
      await new Promise<void>((resolve) => (this.wakeUp = resolve));
    this.wakeUp = undefined;
    if (this.failure) throw this.failure;
    this.ready = false;
    // A group larger than the buffer (long texts or geometries) gets a larger one.
    if (ipc.length > this.shared.byteLength)
      this.shared = new SharedArrayBuffer(Math.max(ipc.length, this.shared.byteLength * 2));
    new Uint8Array(this.shared).set(ipc);
    this.worker.postMessage({
      type: 'group',
      buffer: this.shared,
      length: ipc.length,
    } satisfies ToParquetWorker);
  }

  async finish(): Promise<void> {
    this.worker.postMessage({ type: 'end' } satisfies ToParquetWorker);
    try {
      await this.settled;
    } finally {
      await this.worker.terminate();
    }
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
