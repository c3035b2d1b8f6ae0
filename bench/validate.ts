/**
 * `datacycle validate` against frictionless-py's `frictionless validate` (issue 22): the same
 * file (200,000 valid generated IRVE rows) and schema, each a whole process as a user runs it
 * (the compiled bin; frictionless pinned in test/conformance/requirements.txt), wall time and
 * peak RSS from GNU time, median of the runs, taken in turns.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureConformanceVenv } from '../test/helpers/conformance';
import { localDir, packageRoot } from '../localcloud/settings';
import { generateIrveCsv } from './irve-generator';

export const VALIDATE_ROWS = 200_000;
export const VALIDATE_SPEED_GOAL = 20;
export const VALIDATE_RSS_GOAL_MB = 200;

export interface ValidateBench {
  rows: number;
  megabytes: number;
  runs: number;
  datacycle: { seconds: number; peakRssMb: number };
  frictionless: { version: string; seconds: number; peakRssMb: number };
  /** frictionless's time over datacycle's. */
  speedup: number;
}

/** Wall seconds and peak RSS of a command, by GNU time (installed with Debian's `time`). */
function measured(command: string, args: string[]): { seconds: number; peakRssMb: number } {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], {
    // Relative paths: frictionless refuses absolute ones as "not safe".
    cwd: packageRoot,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.error)
    throw new Error(`GNU time is needed (Debian: apt-get install time): ${result.error.message}`);
  // Both exit 0 on a valid file; anything else is a failed measure.
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.slice(-2000)}`);
  // GNU time's line is the last (after the command's own progress line, ended by \r).
  const line = result.stderr
    .split(/[\r\n]/)
    .filter((text) => text.trim() !== '')
    .pop()!;
  const [seconds, kilobytes] = line.trim().split(' ').map(Number);
  return { seconds: seconds!, peakRssMb: Math.round(kilobytes! / 1024) };
}

const median = <T extends { seconds: number }>(measures: T[]): T =>
  [...measures].sort((a, b) => a.seconds - b.seconds)[Math.floor(measures.length / 2)]!;

export async function benchValidate(runs = 5): Promise<ValidateBench> {
  const generated = path.join(localDir, 'bench', `irve-valid-${VALIDATE_ROWS}.csv`);
  mkdirSync(path.dirname(generated), { recursive: true });
  if (!existsSync(generated)) await generateIrveCsv(generated, VALIDATE_ROWS, 0);
  const file = path.relative(packageRoot, generated);
  const schema = 'examples/territoires/schemas/irve-statique.json';
  const python = await ensureConformanceVenv();
  const frictionlessBin = path.join(path.dirname(python), 'frictionless');
  const version = spawnSync(python, ['-c', 'import frictionless; print(frictionless.__version__)'], {
    encoding: 'utf8',
  }).stdout.trim();
  const bin = path.join(packageRoot, 'bin', 'datacycle.mjs');
  const ours: { seconds: number; peakRssMb: number }[] = [];
  const theirs: { seconds: number; peakRssMb: number }[] = [];
  measured(process.execPath, [bin, 'validate', file, '--schema', schema]); // warm the file cache
  for (let run = 0; run < runs; run++) {
    ours.push(measured(process.execPath, [bin, 'validate', file, '--schema', schema]));
    theirs.push(measured(frictionlessBin, ['validate', file, '--schema', schema]));
  }
  const datacycle = median(ours);
  const frictionless = median(theirs);
  return {
    rows: VALIDATE_ROWS,
    megabytes: Math.round(statSync(generated).size / 1e6),
    runs,
    datacycle,
    frictionless: { version, ...frictionless },
    speedup: Math.round((frictionless.seconds / datacycle.seconds) * 100) / 100,
  };
}
