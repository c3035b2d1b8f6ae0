import { SetupError, run } from './process';

const packages = ['r-base-core', 'r-cran-jsonlite'];

async function hasR(): Promise<boolean> {
  try {
    await run('Rscript', ['--vanilla', '-e', 'invisible(jsonlite::toJSON(1))'], { timeoutMs: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * R with jsonlite on this machine, for a project with R models: the local cloud runs them with
 * the machine's R (on AWS, a layer brings it). Installed from Debian's packages when we can
 * (root with apt-get), else a SetupError that says how.
 */
export async function ensureR(): Promise<'ready' | 'installed'> {
  if (await hasR()) return 'ready';
  const fix = `install R and jsonlite (Debian: apt-get install ${packages.join(' ')})`;
  if (process.getuid?.() !== 0) throw new SetupError('the project has R models, and R is not installed', fix);
  try {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 5 * 60_000 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      timeoutMs: 15 * 60_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    throw new SetupError(`installing R failed: ${(error as Error).message}`, fix);
  }
  if (!(await hasR())) throw new SetupError('R was installed but Rscript still fails', fix);
  return 'installed';
}
