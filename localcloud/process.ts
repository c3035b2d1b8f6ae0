import { spawn, type SpawnOptions } from 'node:child_process';

export class SetupError extends Error {
  override name = 'SetupError';
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** Runs a command to completion with a time limit; rejects with its output on failure. */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number; quiet?: boolean } = {},
): Promise<string> {
  const { timeoutMs = 10 * 60_000, quiet = true, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new SetupError(
          `${command} ${args.join(' ')} did not finish within ${Math.round(timeoutMs / 1000)} s`,
        ),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new SetupError(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new SetupError(`${command} ${args.join(' ')} exited with code ${code}:\n${output.slice(-4000)}`),
        );
    });
  });
}

export async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stdout.write(`› ${title}… `);
  try {
    const result = await work();
    console.log(`done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    console.log('failed');
    throw error;
  }
}

/** Polls until `probe` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
