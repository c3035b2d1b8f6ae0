import type { Readable } from 'node:stream';
import { TerminalError } from '../../platform/errors/errors';
import {
  openTables,
  parseCsvRun,
  type CsvRun,
  type CsvRuns,
  type DataTable,
  type OpenOptions,
  type RowBatch,
} from '../../platform/formats';
import { checkHeader, type LabelError, type TableSchema } from '../../platform/table-schema';
import type { Lineage } from '../../platform/warehouse';
import { CopyWriter } from '../../platform/warehouse/copy-binary';
import { BatchValidation, type TableSetup } from './batch-validation';
import { ErrorCollector, type IngestReport } from './report';
import { ValidationPool, failureError, validationWorkers, type RunResult } from './validation-pool';
import { WORKERS_AT_ONCE_BYTES, type StartedValidationWorkers } from './validation-threads';

/** Thrown by FileValidation.copyRows when a table's header does not match the schema. */
export class HeaderMismatch extends Error {}

export type TableSummary = NonNullable<IngestReport['tables']>[number];

/**
 * The validation of one file against a Table Schema, shared by ingestion (which streams the
 * valid rows into COPY) and `datacycle validate` (which only counts them). Errors are counted
 * and the first ones of each type kept, so any file gives a bounded report.
 *
 * A large CSV table is validated by worker threads (see ValidationPool): this thread reads
 * and splits the file, workers parse, validate and encode runs of records, and their results
 * are taken in file order, so the outcome is the same as validating here, byte for byte.
 * Unique values and primary keys are checked here, from the claims the workers send back.
 */
export class FileValidation {
  readonly collector = new ErrorCollector();
  readonly rows = { read: 0, valid: 0, invalid: 0, loaded: 0 };
  readonly tables: TableSummary[] = [];
  headerProblem?: string;
  private readonly workers: number;
  private readonly workersAfterBytes: number;
  private readonly started?: StartedValidationWorkers;

  constructor(
    private readonly schema: TableSchema,
    /** Named in messages, e.g. the dataset id. */
    private readonly subject: string,
    options: {
      /** Validation worker threads for a large CSV table (0: none); see validationWorkers. */
      workers?: number;
      /**
       * Bytes of a CSV table validated in this thread before workers start: a small file is
       * done before they would have started. Default: 4 MiB, or none for a file known to be
       * large (fileBytes).
       */
      workersAfterBytes?: number;
      /**
       * The file's size, when known (a compressed file's: its text is larger still), to
       * validate a large file without loading it (`datacycle validate`): from
       * WORKERS_AT_ONCE_BYTES on, the workers take over from the table's second run. Without
       * a load, the first MiBs validated here as well cost more than they saved, this thread's
       * validation code warming up on the way (200,000 IRVE rows: 0.70 -> 0.66 s; 20,000:
       * 0.31 -> 0.29 s). A load (ingestion) does not pass it: there, with PostgreSQL on the
       * same 2 cores, the workers' own cold start costs as much as this thread's (1M rows, 4
       * alternated runs: 6.84 against 6.78 s), and the first rows reach PostgreSQL no sooner.
       */
      fileBytes?: number;
      /** Workers started ahead, taken by the first table validated in workers. */
      started?: StartedValidationWorkers;
    } = {},
  ) {
    this.started = options.started;
    this.workers = options.workers ?? validationWorkers();
    this.workersAfterBytes =
      options.workersAfterBytes ?? ((options.fileBytes ?? 0) >= WORKERS_AT_ONCE_BYTES ? 0 : 4 * 1024 * 1024);
  }

  get dialect() {
    return this.tables.find((table) => table.dialect)?.dialect;
  }

  /** The validation pool at work, which takes back the COPY buffers its workers sent. */
  private pool?: ValidationPool;

  /**
   * Takes back a chunk copyRows yielded, once nothing reads it any more (see
   * TableLoad.released): a worker's COPY buffer goes back to the pool, to hold later rows. Sent
   * away rather than left to the garbage collector: the reading thread holds little else, and
   * the memory of buffers that came in from the workers alone made it collect in full again and
   * again (docs/benchmarks.md).
   */
  readonly released = (chunk: Uint8Array): void => {
    if (this.pool !== undefined && fromWorkers.has(chunk.buffer))
      this.pool.takeBack(chunk.buffer as ArrayBuffer);
  };

  /**
   * Validates every table of the file (several for a zip of several files) and yields its
   * valid rows in COPY binary format with their lineage (see TableLoad.copyRows), in chunks of
   * a few hundred kilobytes. Rows are encoded as soon as they are validated: nothing but the
   * chunks in flight is held. Without lineage (validation only), nothing is encoded and each
   * batch yields an empty chunk (a beat for progress reports).
   */
  async *copyRows(tables: AsyncIterable<DataTable>, lineage?: Lineage): AsyncGenerator<Buffer> {
    for await (const table of tables) {
      this.tables.push({
        name: table.name,
        format: table.format,
        containers: table.containers,
        dialect: table.dialect,
        sheet: table.sheet,
      });
      const member = table.containers.includes('zip') ? { file: table.name } : {};
      const header = checkHeader(table.header, this.schema);
      if (!header.valid) {
        header.errors.forEach((error) => this.collector.add({ ...error, ...member }));
        this.headerProblem = describeHeaderErrors(header.errors, this.subject, member.file);
        throw new HeaderMismatch(this.headerProblem);
      }
      const setup: TableSetup = {
        schema: this.schema,
        columnOfField: header.columnOfField,
        columnCount: table.header.length,
        utf8Bytes: table.utf8Bytes === true,
        lineage,
      };
      const here = new TableValidation(this, setup, member);
      if (table.csvRuns !== undefined && this.workers > 0) yield* this.csvInWorkers(table.csvRuns, here);
      else {
        for await (const batch of table.batches) {
          const output = here.validate(batch);
          if (output !== undefined) yield output;
        }
      }
      const rest = here.flush();
      if (rest !== undefined) yield rest;
    }
  }

  /** Counts a validated batch's rows. */
  counted(read: number, valid: number): void {
    this.rows.read += read;
    this.rows.valid += valid;
    this.rows.invalid += read - valid;
  }

  private async *csvInWorkers(runs: CsvRuns, here: TableValidation): AsyncGenerator<Buffer> {
    function* inThisThread(some: Iterable<CsvRun>): Generator<Buffer> {
      for (const run of some) {
        const output = here.validate(
          parseCsvRun(run, runs.delimiter, runs.read, here.setup.lineage !== undefined),
        );
        if (output !== undefined) yield output;
      }
    }
    const source = runs.rest[Symbol.asyncIterator]();
    async function* restInThisThread(): AsyncGenerator<Buffer> {
      for (let next = await source.next(); !next.done; next = await source.next())
        yield* inThisThread([next.value]);
    }
    const output = here.validate(runs.parsed);
    if (output !== undefined) yield output;
    let next = await source.next();
    for (let bytes = 0; !next.done && bytes < this.workersAfterBytes; next = await source.next()) {
      bytes += next.value.bytes.length;
      yield* inThisThread([next.value]);
    }
    // A table of one run is done: no worker is started for it.
    if (next.done) return;
    let ahead: CsvRun | undefined = next.value;
    const pool = (this.pool = new ValidationPool(
      this.workers,
      { table: here.setup, delimiter: runs.delimiter, reading: runs.reading },
      this.started?.take(this.workers),
    ));
    try {
      const inFlight: Promise<RunResult>[] = [];
      let more = true;
      let taken = 0;
      let again = 0;
      for (;;) {
        while (more && inFlight.length < pool.capacity) {
          const job: CsvRun[] = [];
          for (let bytes = 0; bytes < JOB_BYTES;) {
            let run = ahead;
            ahead = undefined;
            if (run === undefined) {
              const fetched = await source.next();
              if (fetched.done) {
                more = false;
                break;
              }
              run = fetched.value;
            }
            job.push(run);
            bytes += run.bytes.length;
          }
          if (job.length > 0) inFlight.push(pool.validate(job));
        }
        const head = inFlight.shift();
        if (head === undefined) return;
        const outcome = await head;
        if (!outcome.claims || here.validation.validator.claim(outcome.claims)) {
          taken++;
          yield* here.validatedElsewhere(outcome);
          if (outcome.failure) throw failureError(outcome.failure);
          outcome.runs.forEach(runs.recycle);
          continue;
        }
        // A value seen in an earlier job, or an empty key: the runs again, here, for their
        // errors (a failing run fails here the same way).
        yield* inThisThread(outcome.runs);
        outcome.runs.forEach(runs.recycle);
        // Repeats in most jobs (a `unique` field that is not): each job would be validated
        // twice, so the rest of the table is validated here alone.
        if (++again >= 4 && again > taken) {
          for (const pending of inFlight) yield* inThisThread((await pending).runs);
          yield* restInThisThread();
          return;
        }
      }
    } finally {
      this.pool = undefined;
      await pool.close();
    }
  }
}

/** The ArrayBuffers of COPY bytes that came from validation workers (see FileValidation.released). */
const fromWorkers = new WeakSet<ArrayBufferLike>();

/** What copyRows yields for validated rows when nothing is loaded: a beat for progress reports. */
const NO_ROWS = Buffer.alloc(0);
/** Bytes of the runs sent to a worker at once (see ValidationPool.validate). */
const JOB_BYTES = 256 * 1024;
/** COPY bytes sent to PostgreSQL at once, at least, by this thread. */
const COPY_CHUNK_BYTES = 256 * 1024;

/** One table's validation in this thread, and what it makes of a worker's outcome. */
class TableValidation {
  readonly validation: BatchValidation;
  private readonly output: CopyWriter;

  constructor(
    private readonly file: FileValidation,
    readonly setup: TableSetup,
    private readonly member: { file?: string },
  ) {
    this.validation = new BatchValidation(setup);
    this.output = new CopyWriter();
  }

  /**
   * Validates a batch; returns what copyRows yields for it, if anything: its COPY bytes
   * once a chunk's worth has gathered (PostgreSQL spends less per row on large messages).
   */
  validate(batch: RowBatch): Buffer | undefined {
    const encoded = this.setup.lineage === undefined ? undefined : this.output;
    const { valid } = this.validation.validate(
      batch,
      (error) => this.file.collector.add({ ...error, ...this.member }),
      encoded,
    );
    this.file.counted(batch.length, valid);
    if (encoded === undefined) return NO_ROWS;
    return encoded.length >= COPY_CHUNK_BYTES ? encoded.take() : undefined;
  }

  /** The COPY bytes gathered but not yet returned. */
  flush(): Buffer | undefined {
    return this.output.length === 0 ? undefined : this.output.take();
  }

  /** Takes a worker's outcome; returns what copyRows yields for it, after what was gathered here. */
  *validatedElsewhere(outcome: RunResult): Generator<Buffer> {
    this.file.collector.merge(outcome.kept, outcome.counts, this.member);
    this.file.counted(outcome.read, outcome.valid);
    if (this.setup.lineage === undefined) {
      yield NO_ROWS;
      return;
    }
    const gathered = this.flush();
    if (gathered !== undefined) yield gathered;
    const { buffer, byteOffset, byteLength } = outcome.copy;
    fromWorkers.add(buffer);
    if (byteLength > 0) yield Buffer.from(buffer, byteOffset, byteLength);
  }
}

export function describeHeaderErrors(errors: LabelError[], subject: string, file?: string): string {
  const missing = errors.filter((e) => e.type === 'missing-label').map((e) => e.label);
  const extra = errors.filter((e) => e.type === 'extra-label').map((e) => e.label);
  const parts = [
    missing.length ? `missing columns: ${missing.join(', ')}` : '',
    extra.length ? `unexpected columns: ${extra.join(', ')}` : '',
    errors.some((e) => e.type === 'duplicate-label' || e.type === 'blank-label')
      ? 'duplicate or blank column names'
      : '',
  ].filter(Boolean);
  return `header${file ? ` of ${file}` : ''} does not match the schema of ${subject}: ${parts.join('; ')}`;
}

export interface ValidationResult {
  valid: boolean;
  summary: string;
  rows: FileValidation['rows'];
  errorCounts: Record<string, number>;
  errors: IngestReport['errors'];
  tables: TableSummary[];
}

/** Validates a whole file offline (no database): the engine of `datacycle validate`. */
export async function validateFile(
  input: Readable,
  schema: TableSchema,
  options: OpenOptions & {
    subject?: string;
    fileBytes?: number;
    /** Workers started ahead (see StartedValidationWorkers); those not taken are stopped. */
    started?: StartedValidationWorkers;
    onProgress?: (rowsRead: number) => void;
  },
): Promise<ValidationResult> {
  const validation = new FileValidation(schema, options.subject ?? options.name, {
    fileBytes: options.fileBytes,
    started: options.started,
  });
  const result = (summary: string): ValidationResult => ({
    valid: validation.collector.total === 0 && validation.rows.read > 0,
    summary,
    rows: validation.rows,
    errorCounts: validation.collector.counts,
    errors: validation.collector.kept,
    tables: validation.tables,
  });
  try {
    let next = 100_000;
    const tables = openTables(input, { ...options, csv: { ...options.csv, utf8Bytes: true } });
    for await (const _chunk of validation.copyRows(tables)) {
      void _chunk;
      if (options.onProgress && validation.rows.read >= next) {
        options.onProgress(validation.rows.read);
        next += 100_000;
      }
    }
  } catch (error) {
    if (error instanceof HeaderMismatch) return result(error.message);
    if (error instanceof TerminalError) {
      validation.collector.add({ type: 'file-error', message: error.message, hint: error.hint });
      return result(error.message);
    }
    throw error;
  } finally {
    await options.started?.close();
  }
  const { read, invalid } = validation.rows;
  if (read === 0) {
    validation.collector.add({ type: 'file-error', message: 'the file has a header but no data rows' });
    return result('the file has no data rows');
  }
  return result(invalid === 0 ? `all ${read} rows are valid` : `${invalid} of ${read} rows are invalid`);
}
