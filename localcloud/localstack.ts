import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { SetupError, run } from './process';
import { pythonRuntimeDir, venvPython } from './python-venv';
import {
  gatewayCertFile,
  localstackDir,
  localstackEndpoint,
  localstackEnvironment,
  localstackPort,
  packageRoot,
} from './settings';

const pidFile = path.join(localstackDir, 'localstack.pid');
export const localstackLog = path.join(localstackDir, 'localstack.log');

interface Health {
  services?: Record<string, string>;
  version?: string;
}

async function health(): Promise<Health | 'not-localstack' | undefined> {
  try {
    const response = await fetch(`${localstackEndpoint}/_localstack/health`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return 'not-localstack';
    const body = (await response.json()) as Health;
    return body.services ? body : 'not-localstack';
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause === 'ECONNREFUSED' ? undefined : 'not-localstack';
  }
}

/** Starts LocalStack in host mode (no Docker) unless it already runs; waits until it serves. */
export async function ensureLocalstack(): Promise<'running' | 'started'> {
  const current = await health();
  if (current === 'not-localstack') {
    throw new SetupError(
      `port ${localstackPort} is taken by a program that is not LocalStack`,
      `stop that program, or run with LOCALSTACK_PORT=<free port>`,
    );
  }
  if (current) return 'running';

  mkdirSync(localstackDir, { recursive: true });
  if (!existsSync(gatewayCertFile)) {
    await run(venvPython, [path.join(packageRoot, 'localcloud', 'gateway_cert.py'), gatewayCertFile]);
  }
  const log = openSync(localstackLog, 'w');
  const child = spawn(venvPython, ['-m', 'localstack.runtime.main'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...localstackEnvironment(), DATACYCLE_PYTHON_RUNTIME_PATH: pythonRuntimeDir },
  });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile, String(child.pid));

  const deadline = Date.now() + 120_000;
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new SetupError(
        `LocalStack exited with code ${exited} while starting:\n${tail(localstackLog)}`,
        `see ${localstackLog}`,
      );
    }
    const state = await health();
    if (state && state !== 'not-localstack' && readyLine()) return 'started';
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new SetupError(
    `LocalStack did not become ready within 120 s:\n${tail(localstackLog)}`,
    `see ${localstackLog}`,
  );
}

function readyLine(): boolean {
  return existsSync(localstackLog) && readFileSync(localstackLog, 'utf8').includes('Ready.');
}

/** Stops LocalStack (SIGTERM); `SIGKILL` is what the fault tests use to kill it mid-flight. */
export async function stopLocalstack(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<boolean> {
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      return false;
    }
  }
  // Until the port is free: a start right after a stop must not find the old one leaving.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await health()) !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return true;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
