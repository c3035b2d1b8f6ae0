import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { localFunctionUrlHost, localS3 } from '../../localcloud/aws-clients';
import { readStackOutputs } from '../../localcloud/deploy';
import { exampleDataDir } from '../../localcloud/example-portal';
import { databaseUrl } from '../../localcloud/settings';
import { fireSchedule } from '../../localcloud/schedules';

export { localS3, readStackOutputs, databaseUrl };

export function testPool(): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl(), max: 4 });
}

/**
 * A database of its own for a test file whose rows must not meet the deployed stack's (the
 * webhook subscriptions of the shared database would receive its events): created once, migrated
 * by the test.
 */
export async function ownDatabase(name: string): Promise<pg.Pool> {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  return new pg.Pool({ connectionString: url.toString(), max: 4 });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToString();
}

export async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await response.Body!.transformToString()) as T;
}

/** Polls until `probe` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

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
  const key = `departements/${uniqueName('departements')}.csv`;
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

/** A collect run as ops.runs records it. */
export interface CollectRun {
  id: string;
  status: string;
  error: string | null;
  details: { key?: string; http?: number; records?: number; pages?: number; resource?: string };
}

/**
 * Fires a deployed schedule (see fireSchedule) and waits for the collect run it starts for
 * `dataset` to finish.
 */
export async function fireAndWaitForRun(
  pool: pg.Pool,
  scheduleRules: string,
  source: string,
  timeoutMs = 90_000,
): Promise<CollectRun> {
  const rule = (JSON.parse(scheduleRules) as Record<string, string>)[source];
  if (!rule) throw new Error(`no schedule rule for ${source} in ${scheduleRules}`);
  const dataset = source.split(':')[0];
  const since = new Date();
  await fireSchedule(rule);
  return eventually(
    async () => {
      const { rows } = await pool.query<CollectRun>(
        `SELECT id, status, error, details FROM ops.runs WHERE trigger = 'schedule' AND dataset = $1
          AND started_at >= $2 AND status <> 'running' ORDER BY started_at LIMIT 1`,
        [dataset, since],
      );
      return rows[0];
    },
    timeoutMs,
    `a finished collect run of ${dataset}`,
  );
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

/** The deployed API's base URL as its links give it (see localFunctionUrlHost). */
export function localApiBase(apiUrl: string): string {
  return `http://${localFunctionUrlHost(apiUrl)}`;
}

/** A request to the deployed API, through LocalStack's gateway on loopback. */
export function callApi(
  apiUrl: string,
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ApiAnswer> {
  const base = new URL(localApiBase(apiUrl));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: Number(base.port),
        method: options.method ?? 'GET',
        path: pathAndQuery,
        headers: { ...options.headers, host: base.host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
