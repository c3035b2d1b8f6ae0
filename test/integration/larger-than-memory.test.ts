/**
 * A file larger than the memory the process may use: 400 000 IRVE rows (~185 MB) validated
 * by the CLI with the V8 heap capped at 160 MB. Only a streaming pipeline gets through.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateIrveCsv } from '../../bench/irve-generator';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'dc-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a file larger than memory', () => {
  it('is validated in bounded memory, every row counted', async () => {
    const file = path.join(dir, 'irve-400k.csv');
    const { invalid } = await generateIrveCsv(file, 400_000, 0.03, 7);
    const heapMb = 160;
    expect(statSync(file).size).toBeGreaterThan(heapMb * 1024 * 1024);

    const result = spawnSync(
      'node',
      [
        `--max-old-space-size=${heapMb}`,
        'bin/datacycle.mjs',
        'validate',
        file,
        '--schema',
        'examples/territoires/schemas/irve-statique.json',
        '--json',
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 180_000 },
    );

    expect(result.status, result.stderr).toBe(1); // 3 % of the rows are invalid
    const report = JSON.parse(result.stdout) as { rows: { read: number; invalid: number } };
    expect(report.rows).toMatchObject({ read: 400_000, invalid });
  }, 240_000);
});
