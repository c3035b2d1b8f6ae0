/**
 * Waiting on the deployed pipeline from outside: what ops.files records of a dropped file, and
 * the example's reference data that the transform needs. Shared by the tests and the bench.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { localS3 } from './aws-clients';
import { readStackOutputs } from './deploy';
import { exampleDataDir } from './example-portal';
import { eventually } from './process';

export { eventually };

/** What ops.files says of one landing object. */
export interface FileRow {
  run_id: string;
  status: string;
  rows_loaded: string;
  report_key: string;
  raw_key: string | null;
  error: string | null;
}

/** Waits until the deployed pipeline has recorded the landing object `key` in ops.files. */
export function recordedFile(pool: pg.Pool, key: string, timeoutMs = 60_000): Promise<FileRow> {
  return eventually(
    async () => {
      const { rows } = await pool.query<FileRow>(
        'SELECT run_id, status, rows_loaded, report_key, raw_key, error FROM ops.files WHERE source_key = $1',
        [key],
      );
      return rows[0];
    },
    timeoutMs,
    `ops.files row for ${key}`,
  );
}

/**
 * The example's département polygons, dropped on the deployed stack and loaded (or already
 * there: a duplicate). The transform's spatial join needs them: a test that publishes
 * indicators calls this rather than count on another test file having run first.
 */
export async function ensureDepartements(pool: pg.Pool): Promise<void> {
  const key = `departements/departements-${randomUUID().slice(0, 8)}.csv`;
  const body = readFileSync(path.join(exampleDataDir, 'departements.csv'));
  await localS3().send(
    new PutObjectCommand({ Bucket: readStackOutputs().LandingBucket, Key: key, Body: body }),
  );
  const file = await recordedFile(pool, key, 90_000);
  if (file.status === 'duplicate') return;
  if (file.status !== 'loaded') {
    throw new Error(`the example's departements.csv was not loaded (${file.status}): ${file.error}`);
  }
  // And the transform pass it started is over, so that it does not join the caller's.
  await eventually(
    async () =>
      (
        await pool.query(
          "SELECT 1 FROM ops.run_steps WHERE run_id = $1 AND step = 'transform' AND status <> 'running'",
          [file.run_id],
        )
      ).rowCount
        ? true
        : undefined,
    120_000,
    'the transform pass after loading departements.csv',
  );
}
