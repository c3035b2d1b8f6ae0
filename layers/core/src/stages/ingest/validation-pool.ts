import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { TerminalError } from '../../platform/errors/errors';
import { startWorker } from '../../platform/workers';
import { databaseOnThisMachine, type Pool } from '../../platform/warehouse';
import type { CsvRun, Delimiter, RunReading } from '../../platform/formats';
import type { RowClaim } from '../../platform/table-schema';
import type { TableSetup } from './batch-validation';
import type { IngestReport } from './report';

/** What a worker is started with: one table's setup. */
export interface WorkerSetup {
  table: TableSetup;
  delimiter: Delimiter;
  reading: RunReading;
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
 * thread). The reading thread does little besides (reading, cutting records, forwarding
 * bytes to PostgreSQL: idle most of a 1M-row load), so it needs no core of its own: on 2
 * cores, 2 workers validate 1M IRVE rows ~20 % faster than 1.
 * In Lambda, cores are counted from the memory size (one vCPU per 1769 MB): the sandbox
 * shows more than it lets a small function use. 0 turns them off.
 *
 * A load whose PostgreSQL runs on this machine (the local cloud) leaves it a core: one worker
 * fewer, at least one. On 2 cores with PostgreSQL beside, one worker loaded 1M IRVE rows in
 * 6.73 s against 6.90 s for two, and 6.51 s against 6.75 s (medians of 5 and 6 alternated
 * runs; 7 % less CPU in Node.js): the backend, the workers and the reading thread take turns
 * on the cores, and fewer threads waste less of them.
 */
export function validationWorkers(
  env: NodeJS.ProcessEnv = process.env,
  { databaseOnThisMachine = false }: { databaseOnThisMachine?: boolean } = {},
): number {
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
  if (setting.data !== undefined) return setting.data;
  const lambdaMemory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const cores =
    lambdaMemory > 0
      ? Math.min(availableParallelism(), Math.round(lambdaMemory / 1769))
      : availableParallelism();
  if (cores < 2) return 0;
  return Math.min(databaseOnThisMachine ? cores - 1 : cores, 4);
}

/** The validation workers of a load into the pool's database (see validationWorkers). */
export function loadValidationWorkers(pool: Pool, env: NodeJS.ProcessEnv = process.env): number {
  return validationWorkers(env, { databaseOnThisMachine: databaseOnThisMachine(pool) });
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
  private closing = false;

  constructor(count: number, setup: WorkerSetup) {
    this.workers = Array.from({ length: count }, () => {
      const worker = startValidationWorker(setup);
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

/**
 * A worker's young generation (new objects): 24 MB, i.e. semi-spaces of 8 MB rather than the
 * 16 MB of Node.js's default (or the functions' NODE_OPTIONS). Its batches are short-lived and
 * small: at 200k IRVE rows, `datacycle validate` peaks at 160 MB instead of 191 MB, no slower.
 */
const resourceLimits = { maxYoungGenerationSizeMb: 24 };

/** A validation worker (validation-worker.ts), bundled or from the sources (see startWorker). */
function startValidationWorker(setup: WorkerSetup): Worker {
  // esbuild leaves import.meta empty in a CommonJS bundle.
  return startWorker('validation-worker', import.meta.url as string | undefined, {
    workerData: setup,
    resourceLimits,
  });
}
