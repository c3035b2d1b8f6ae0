import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Model, ProjectIssue } from '@datacycle/core';
import { packageRoot } from '../localcloud/settings';

const run = promisify(execFile);
const runners = path.join(packageRoot, 'dist', 'lambda', 'runners');
const foundSchema = z.array(z.object({ file: z.string(), line: z.number().nullish(), message: z.string() }));

/** What checking one language's models gave: problems, or why they could not be checked here. */
export interface LanguageCheck {
  issues: ProjectIssue[];
  skipped?: string;
}

/**
 * The Python and R models checked without running them, by the language itself (Python's ast,
 * R's parser): syntax, and the `model` function's parameters against the declared inputs.
 * A language missing on this machine is reported as skipped, not as a problem.
 */
export async function checkModelCode(models: readonly Model[]): Promise<LanguageCheck[]> {
  const checks: LanguageCheck[] = [];
  const python = models.filter((model) => model.language === 'python');
  if (python.length > 0)
    checks.push(await check(python, 'python3', [path.join(runners, 'python', 'check_models.py')], 'Python 3'));
  const r = models.filter((model) => model.language === 'r');
  if (r.length > 0)
    checks.push(
      await check(r, 'Rscript', ['--vanilla', path.join(runners, 'r', 'check_models.R')], 'R with jsonlite'),
    );
  return checks;
}

async function check(models: Model[], command: string, args: string[], needs: string): Promise<LanguageCheck> {
  const dir = mkdtempSync(path.join(tmpdir(), 'datacycle-check-'));
  try {
    const request = path.join(dir, 'models.json');
    writeFileSync(
      request,
      JSON.stringify({
        files: models.map((model) => ({
          file: model.file,
          code: model.code,
          inputs: model.inputs.map((input) => input.parameter),
        })),
      }),
    );
    let stdout: string;
    try {
      ({ stdout } = await run(command, [...args, request], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }));
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `${command} is not installed`
          : ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').at(-1);
      return { issues: [], skipped: `${models.map((m) => m.file).join(', ')} not checked: ${reason} (needs ${needs})` };
    }
    return {
      issues: foundSchema.parse(JSON.parse(stdout)).map((found) => ({
        file: found.file,
        path: found.line ? `line ${found.line}` : '',
        message: found.message,
      })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
