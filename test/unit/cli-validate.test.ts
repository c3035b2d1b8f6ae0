import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
});
