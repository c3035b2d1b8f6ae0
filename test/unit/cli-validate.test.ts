import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIrveCsv } from '../../bench/irve-generator';

const root = path.resolve(import.meta.dirname, '../..');
const schema = path.join(root, 'examples/territoires/schemas/irve-statique.json');
const example = readFileSync(path.join(root, 'examples/territoires/data/irve-statique-exemple.csv'), 'utf8');
const datacycle = (...args: string[]) =>
  spawnSync('node', ['bin/datacycle.mjs', ...args], { cwd: root, encoding: 'utf8' });

describe('datacycle validate', () => {
  it('exits 0 on a valid file and prints a summary', () => {
    const result = datacycle(
      'validate',
      'examples/territoires/data/irve-statique-exemple.csv',
      '--schema',
      schema,
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /✓ valid: .*irve-statique-exemple\.csv \(csv, utf-8 ","\) — all 2 rows are valid/,
    );
  });

  it('exits 1 on an invalid file; --json gives every kept error, located', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dc-validate-'));
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, example.replace(',10,FRA68E680210015,', ',dix,FRA68E680210015,'));

    const text = datacycle('validate', file, '--schema', schema);
    const json = datacycle('validate', file, '--schema', schema, '--json');

    expect(text.status).toBe(1);
    expect(text.stdout).toContain('- [type-error] row 2, nbre_pdc: "dix" is not an integer');
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout) as {
      valid: boolean;
      errorCounts: Record<string, number>;
      errors: unknown[];
    };
    expect(report.valid).toBe(false);
    expect(report.errorCounts).toEqual({ 'type-error': 1 });
    expect(report.errors).toEqual([
      expect.objectContaining({ rowNumber: 2, fieldName: 'nbre_pdc', cell: 'dix' }),
    ]);
  });

  it('exits 2 when the schema is missing', () => {
    expect(datacycle('validate', 'x.csv').status).toBe(2);
  });

  describe('a file large enough for workers started with the command', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dc-validate-large-'));
    const file = path.join(dir, 'irve.csv');
    beforeAll(async () => {
      // Past WORKERS_AT_ONCE_BYTES (8 MiB): the command starts its workers before it reads the schema.
      await generateIrveCsv(file, 20_000, 0.03);
      expect(statSync(file).size).toBeGreaterThan(8 * 1024 * 1024);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports as validating in one thread does', () => {
      const json = (env: NodeJS.ProcessEnv) => {
        const result = spawnSync(
          'node',
          ['bin/datacycle.mjs', 'validate', file, '--schema', schema, '--json'],
          {
            cwd: root,
            encoding: 'utf8',
            env: { ...process.env, ...env },
            maxBuffer: 16 * 1024 * 1024,
          },
        );
        expect(result.status, result.stderr).toBe(1);
        const { seconds, ...report } = JSON.parse(result.stdout) as { seconds: number };
        expect(seconds).toBeGreaterThan(0);
        return report;
      };
      const inWorkers = json({ DATACYCLE_VALIDATION_WORKERS: '2' });
      expect(inWorkers).toMatchObject({ rows: { read: 20_000 } });
      expect(inWorkers).toEqual(json({ DATACYCLE_VALIDATION_WORKERS: '0' }));
    }, 60_000);

    it('exits at once on a schema error: the workers started do not hold it', () => {
      const bad = path.join(dir, 'bad-schema.json');
      writeFileSync(bad, JSON.stringify({ fields: [{ name: 'x', type: 'no-such-type' }] }));
      const result = spawnSync('node', ['bin/datacycle.mjs', 'validate', file, '--schema', bad], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain('fields.0.type');
    }, 60_000);
  });
});
