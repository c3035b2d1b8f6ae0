/**
 * The deployed backup function (target of the nightly rule) writes a backup to the internal
 * bucket; `datacycle restore` brings it back into a new, empty database, checksums verified.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, type BackupManifest } from '@datacycle/core';
import { main } from '../../cli/main';
import {
  databaseUrl,
  localS3,
  readJson,
  readStackOutputs,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';

const outputs = readStackOutputs();
const pool = testPool();
const name = uniqueName('restored').replace(/-/g, '_');
const target = databaseUrl().replace(/\/[^/?]+(\?|$)/, `/${name}$1`);

afterAll(async () => {
  await pool.query(`DROP DATABASE IF EXISTS ${name}`);
  await pool.end();
});

describe('backups on the deployed stack', () => {
  it('backs up through the deployed function and restores into an empty database', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    let code: number;
    try {
      code = await main(['backup']);
    } finally {
      console.log = log;
    }
    expect(code).toBe(0);
    const prefix = /s3:\/\/[^/]+\/(backups\/[^/]+\/):/.exec(lines[0]!)![1]!;
    const manifest = await readJson<BackupManifest>(
      localS3(),
      outputs.InternalBucket,
      `${prefix}manifest.json`,
    );
    expect(manifest.schemas).toEqual(['raw', 'enriched', 'ops']);

    await pool.query(`CREATE DATABASE ${name}`);
    expect(await main(['restore', prefix, '--into', target])).toBe(0);

    const restored = createPool(target);
    try {
      const runs = manifest.tables.find((table) => table.schema === 'ops' && table.table === 'runs')!;
      const { rows } = await restored.query('SELECT count(*)::int AS n FROM ops.runs');
      expect(rows).toEqual([{ n: runs.rows }]);
      expect(runs.rows).toBeGreaterThan(0);
    } finally {
      await restored.end();
    }
  });
});
