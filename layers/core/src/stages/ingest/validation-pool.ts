import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { TerminalError } from '../../platform/errors/errors';
import type { CsvRun, Delimiter, RunReading } from '../../platform/formats';
import type { RowClaim } from '../../platform/table-schema';
import type { TableSetup } from './batch-validation';
import type { IngestReport } from './report';
import { defaultValidationWorkers, startValidationWorker } from './validation-threads';

/** What a worker validates: one table's setup. */
export interface WorkerSetup {
  table: TableSetup;
  delimiter: Delimiter;
  reading: RunReading;
}

/**
 * A worker's first message, its setup: sent rather than given as workerData, so that a worker
 * can be started before the table it will validate is known (StartedValidationWorkers).
 */
export interface WorkerStart {
  setup: WorkerSetup;
}

/**
 * Consecutive runs of records sent together: one message each way for all of them. Their
 * bytes are transferred, not copied, and come back with the outcome (RunResult.runs).
 */
export interface RunJob {
  id: number;
  runs: CsvRun[];
}

/**
 * Runs validated by a worker: their COPY bytes, errors (the first of each type, and counts),
 * claims; with a failure, what the runs before the failing one gave.
 */
export interface RunOutcome {
  copy: Uint8Array;
  read: number;
  valid: number;
  kept: IngestReport['errors'];
  counts: Record<string, number>;
  claims?: RowClaim[];
  failure?: { message: string; hint?: string; terminal: boolean };
}

/** A buffer of COPY bytes a worker sent, given back once written (see ValidationPool.takeBack). */
export interface SpareCopyBuffer {
  spare: ArrayBuffer;
}

/** What a job's promise gives: the outcome, and the runs back (their bytes were lent to the worker). */
export type RunResult = RunOutcome & { runs: CsvRun[] };

export type RunReply = { id: number } & RunResult;

/** The error a worker's failure stands for, as validating in this thread would have thrown it. */
export function failureError(failure: NonNullable<RunOutcome['failure']>): Error {
  return failure.terminal
    ? new TerminalError(failure.message, failure.hint)
    : new Error(`validation worker: ${failure.message}`);
}

/**
 * How many validation workers a large CSV file gets: DATACYCLE_VALIDATION_WORKERS, or one per
 * CPU core, at most 4, and none on a single core (they would only take turns with the reading
 * thread); see defaultValidationWorkers. The reading thread does little besides (reading,
 * cutting records, forwarding bytes to PostgreSQL: idle most of a 1M-row load), so it needs
 * no core of its own: on 2 cores, 2 workers validate 1M IRVE rows ~20 % faster than 1.
 *
 * A load whose PostgreSQL shares the machine gets as many: on 2 cores, one worker is the
 * whole load's bottleneck (busy 95 % of the time, while PostgreSQL waits for rows and a core
 * idles 10-15 %), and two loaded 1M IRVE rows faster in 11 of 15 alternated rounds (median
 * ratio to psql's copy of the same rows 0.87 against 0.84). 0 turns them off.
 */
export function validationWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const setting = z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .safeParse(env.DATACYCLE_VALIDATION_WORKERS || undefined);
  if (!setting.success) {
    throw new TerminalError(
      `DATACYCLE_VALIDATION_WORKERS must be a whole number from 0 to 64, not "${env.DATACYCLE_VALIDATION_WORKERS}"`,
      'set it to the number of threads that validate a large CSV file (0: validate in the reading thread)',
    );
  }
  return setting.data ?? defaultValidationWorkers(env);
}

/** Jobs in flight per worker: enough to keep it busy while the reading thread catches up. */
const JOBS_PER_WORKER = 3;

interface Waiting {
  resolve: (outcome: RunResult) => void;
  reject: (error: Error) => void;
  worker: Worker;
}

/**
 * Worker threads that parse, validate and encode runs of one CSV table's records (see
 * validation-worker.ts), so that a large file uses every core. Jobs go to the least busy
 * worker; each job's outcome comes back as a promise, which the caller awaits in file order.
 */
export class ValidationPool {
  private readonly workers: { worker: Worker; pending: number }[];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private nextSpare = 0;
  private closing = false;

  constructor(
    count: number,
    setup: WorkerSetup,
    /** Workers started ahead (see StartedValidationWorkers), used before any is started. */
    started: Worker[] = [],
  ) {
    this.workers = Array.from({ length: count }, (_, index) => {
      const worker = started[index] ?? startValidationWorker();
      worker.ref();
      worker.postMessage({ setup } satisfies WorkerStart);
      const entry = { worker, pending: 0 };
      worker.on('message', (reply: RunReply) => this.settle(entry, reply));
      worker.on('error', (error) => this.fail(worker, error));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(worker, new Error(`a validation worker stopped (exit code ${code})`));
      });
      return entry;
    });
  }

  /** How many jobs may be in flight at once. */
  get capacity(): number {
    return this.workers.length * JOBS_PER_WORKER;
  }

  /**
   * Validates consecutive runs (each message costs: send a few hundred kB at once). Their
   * bytes move to the worker: read the runs again from the result, not from `runs`.
   */
  validate(runs: CsvRun[]): Promise<RunResult> {
    const entry = this.workers.reduce((least, next) => (next.pending < least.pending ? next : least));
    const id = this.nextId++;
    entry.pending++;
    const outcome = new Promise<RunResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: entry.worker });
    });
    // Awaited in order by the caller, or never if an earlier run failed: not unhandled then.
    outcome.catch(() => undefined);
    entry.worker.postMessage(
      { id, runs } satisfies RunJob,
      runs.map((run) => run.bytes.buffer as ArrayBuffer),
    );
    return outcome;
  }

  /**
   * Gives a worker back a buffer of COPY bytes it sent, now written, for its next rows: moved
   * (transferred), it costs neither thread an allocation nor a garbage collection.
   */
  takeBack(buffer: ArrayBuffer): void {
    if (this.closing || buffer.byteLength === 0) return;
    const entry = this.workers[this.nextSpare++ % this.workers.length]!;
    entry.worker.postMessage({ spare: buffer } satisfies SpareCopyBuffer, [buffer]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
    this.fail(undefined, new Error('the validation workers were stopped'));
  }

  private settle(entry: { pending: number }, reply: RunReply): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    entry.pending--;
    waiting.resolve(reply);
  }

  /** Fails what a worker (or, without one, every worker) still had to do. */
  private fail(worker: Worker | undefined, error: Error): void {
    for (const [id, waiting] of this.waiting) {
      if (worker !== undefined && waiting.worker !== worker) continue;
      this.waiting.delete(id);
      waiting.reject(error);
    }
  }
}
