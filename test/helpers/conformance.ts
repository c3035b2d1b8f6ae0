/**
 * The standards' reference tools written in Python, in a venv of their own
 * (.local/conformance-venv), pinned by test/conformance/requirements.txt: installed once,
 * again only when the pins change.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { localDir, packageRoot } from '../../localcloud/settings';

const exec = promisify(execFile);
const requirements = path.join(packageRoot, 'test', 'conformance', 'requirements.txt');
const venv = path.join(localDir, 'conformance-venv');
export const conformancePython = path.join(venv, 'bin', 'python');

export async function ensureConformanceVenv(): Promise<string> {
  const stamp = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stampFile = path.join(venv, '.datacycle-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return conformancePython;
  if (!existsSync(conformancePython)) await exec('python3', ['-m', 'venv', venv]);
  await exec(
    conformancePython,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements],
    {
      timeout: 600_000,
    },
  );
  writeFileSync(stampFile, stamp);
  return conformancePython;
}

/** Runs a Python snippet in the conformance venv with `input` as JSON on stdin; its stdout parsed as JSON. */
export async function runConformancePython<T>(code: string, input: unknown): Promise<T> {
  const python = await ensureConformanceVenv();
  const child = execFile(python, ['-c', code], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`python exited ${code}: ${stderr}`)),
    );
  });
  child.stdin?.end(JSON.stringify(input));
  return JSON.parse(await output) as T;
}

/**
 * Verifies deliveries with the Python reference library of Standard Webhooks
 * (`standardwebhooks`): for each, 'ok' or why it refused it.
 */
export function verifyWithPythonStandardWebhooks(
  deliveries: { secret: string; headers: Record<string, string>; body: string }[],
): Promise<string[]> {
  return runConformancePython<string[]>(
    `
import json, sys
from standardwebhooks.webhooks import Webhook
verdicts = []
for delivery in json.load(sys.stdin):
    try:
        Webhook(delivery["secret"]).verify(delivery["body"], delivery["headers"])
        verdicts.append("ok")
    except Exception as error:
        verdicts.append(f"{type(error).__name__}: {error}")
print(json.dumps(verdicts))
`,
    deliveries,
  );
}
