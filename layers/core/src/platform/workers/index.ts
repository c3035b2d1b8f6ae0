import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The worker scripts the core starts (validation-worker.ts, parquet-worker.ts), each bundled
 * as `<name>.cjs` beside every bundle that holds the core (see bundleWorkers in cdk/bundle.ts).
 */
export type WorkerScript = 'validation-worker' | 'parquet-worker';

/**
 * Starts a worker script. `caller` is the calling module's import.meta.url: bundled, the
 * script sits beside the bundle, CommonJS (the Lambda layer, the bench: import.meta is
 * empty there) or ES modules (the datacycle command, whose chunks are one folder below it);
 * from the TypeScript sources (tsx, vitest) the script's source, beside its caller, runs
 * through tsx.
 */
export function startWorker(
  script: WorkerScript,
  caller: string | undefined,
  options: WorkerOptions,
): Worker {
  if (caller === undefined) return new Worker(path.join(__dirname, `${script}.cjs`), options);
  for (const candidate of [`./${script}.cjs`, `../${script}.cjs`]) {
    const bundled = new URL(candidate, caller);
    if (caller.endsWith('.mjs') && existsSync(bundled)) return new Worker(bundled, options);
  }
  const source = new URL(`./${script}.ts`, caller).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(code, { ...options, eval: true });
}
