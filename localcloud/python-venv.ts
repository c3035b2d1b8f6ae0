import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SetupError, run } from './process';
import { packageRoot, venvDir } from './settings';

const lockFile = path.join(packageRoot, 'localcloud', 'requirements.lock');
const executorDir = path.join(packageRoot, 'localcloud', 'executor');
const stampFile = path.join(venvDir, '.datacycle-stamp');
const runtimeLock = path.join(packageRoot, 'localcloud', 'python-runtime.lock');
/** Where the executor finds AWS's Python runtime interface client (see python-runtime.lock). */
export const pythonRuntimeDir = path.join(venvDir, 'lambda-python-runtime');

export const venvPython = path.join(venvDir, 'bin', 'python');

/**
 * A project-local venv with the pinned localstack-core and datacycle's executor plugin.
 * Reinstalled only when the lock file or the plugin's metadata change.
 */
export async function ensurePythonVenv(): Promise<'ready' | 'installed'> {
  const stamp = createHash('sha256')
    .update(readFileSync(lockFile))
    .update(readFileSync(path.join(executorDir, 'pyproject.toml')))
    .update(readFileSync(runtimeLock))
    // The plugin is installed editable from here: another datacycle install needs its own.
    .update(executorDir)
    .digest('hex');
  if (existsSync(venvPython) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)
    return 'ready';

  const python = await findPython();
  if (!existsSync(venvPython)) {
    await run(python, ['-m', 'venv', venvDir]).catch((error: Error) => {
      throw new SetupError(
        `cannot create the Python venv in ${venvDir}: ${error.message}`,
        'install the venv module (Debian: apt-get install python3-venv)',
      );
    });
  }
  const pip = [venvPython, '-m', 'pip', '--disable-pip-version-check', '--no-input'];
  await run(pip[0]!, [...pip.slice(1), 'install', '--quiet', '-r', lockFile], {
    timeoutMs: 15 * 60_000,
  }).catch((error: Error) => {
    throw new SetupError(
      `pip could not install LocalStack: ${error.message}`,
      'check that PyPI is reachable',
    );
  });
  await run(pip[0]!, [...pip.slice(1), 'install', '--quiet', '--no-deps', '-e', executorDir]);
  await run(pip[0]!, [
    ...pip.slice(1),
    'install',
    '--quiet',
    '--no-deps',
    '--upgrade',
    '--target',
    pythonRuntimeDir,
    '-r',
    runtimeLock,
  ]);
  writeFileSync(stampFile, stamp);
  return 'installed';
}

async function findPython(): Promise<string> {
  for (const candidate of ['python3.11', 'python3.12', 'python3', 'python']) {
    try {
      const version = await run(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
        timeoutMs: 20_000,
      });
      const [major, minor] = version.trim().split('.').map(Number);
      if (major === 3 && (minor ?? 0) >= 10) return candidate;
    } catch {
      // try the next one
    }
  }
  throw new SetupError(
    'Python 3.10 or newer is required to run LocalStack',
    'install python3 and python3-venv',
  );
}
