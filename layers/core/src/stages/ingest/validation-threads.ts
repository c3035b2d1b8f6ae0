/**
 * Starting validation worker threads, and how many: the part of the validation pool that
 * loads nothing but Node.js's own modules, so that a command can start the workers before it
 * loads the validation code (see StartedValidationWorkers).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../platform/workers';

/**
 * A file from which size on the workers start at once (see FileValidation's fileBytes).
 * Below it, they would cost more than they save: a 4 MB file took 0.20 s with none, 0.25 s
 * with two.
 */
export const WORKERS_AT_ONCE_BYTES = 8 * 1024 * 1024;

/**
 * The validation workers a machine gets when DATACYCLE_VALIDATION_WORKERS is not set (see
 * validationWorkers): one per CPU core, at most 4, none on a single core. In Lambda, cores are
 * counted from the memory size (one vCPU per 1769 MB): the sandbox shows more than it lets a
 * small function use.
 */
export function defaultValidationWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const lambdaMemory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const cores =
    lambdaMemory > 0
      ? Math.min(availableParallelism(), Math.round(lambdaMemory / 1769))
      : availableParallelism();
  return cores < 2 ? 0 : Math.min(cores, 4);
}

/**
 * A worker's young generation (new objects): 24 MB, i.e. semi-spaces of 8 MB rather than the
 * 16 MB of Node.js's default (or the functions' NODE_OPTIONS). Its batches are short-lived and
 * small: at 200k IRVE rows, `datacycle validate` peaks at 160 MB instead of 191 MB, no slower.
 */
const resourceLimits = { maxYoungGenerationSizeMb: 24 };

/**
 * A validation worker (validation-worker.ts), bundled or from the sources (see startWorker).
 * It waits for its first message, the table it validates (WorkerStart), then for jobs.
 */
export function startValidationWorker(): Worker {
  // esbuild leaves import.meta empty in a CommonJS bundle.
  return startWorker('validation-worker', import.meta.url as string | undefined, { resourceLimits });
}

/**
 * Validation workers started ahead of the file they will validate, while the caller loads the
 * validation code and reads the file's start: a worker takes ~25 ms to start on a fast
 * machine, 150 ms on a busy one, which `datacycle validate` of 200,000 rows (under a second)
 * would otherwise wait for. A validation pool adopts them (take); those it does not are
 * stopped by close. Idle, they do not keep the process alive.
 */
export class StartedValidationWorkers {
  private readonly idle: Worker[] = [];

  constructor(count: number, start: () => Worker = startValidationWorker) {
    for (let started = 0; started < count; started++) {
      const worker = start();
      worker.unref();
      // One that fails before it is taken is left out (the pool then starts another).
      worker.on('error', () => undefined);
      worker.once('exit', () => {
        const at = this.idle.indexOf(worker);
        if (at >= 0) this.idle.splice(at, 1);
      });
      this.idle.push(worker);
    }
  }

  /**
   * Workers started ahead for a file of `fileBytes`: `count` for a large one (from
   * WORKERS_AT_ONCE_BYTES on), none for a smaller one, which would be done before they started.
   */
  static forFile(fileBytes: number, count: number): StartedValidationWorkers {
    return new StartedValidationWorkers(fileBytes >= WORKERS_AT_ONCE_BYTES ? count : 0);
  }

  /** Up to `count` idle workers, for a pool (which refs them: they then keep the process alive). */
  take(count: number): Worker[] {
    return this.idle.splice(0, count);
  }

  /** Stops the workers no pool took. */
  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((worker) => worker.terminate()));
  }
}
