import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { request as httpRequest } from 'node:http';
import pg from 'pg';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseRotatingSecret } from '@datacycle/core';
import { localClientConfig, localFunctionUrlHost, localS3 } from '../../localcloud/aws-clients';
import { readStackOutputs } from '../../localcloud/deploy';
import { databaseUrl } from '../../localcloud/settings';
import { fireSchedule } from '../../localcloud/schedules';

export { localS3, readStackOutputs, databaseUrl };
export { ensureDepartements, eventually, recordedFile, type FileRow } from '../../localcloud/pipeline-files';
import { eventually } from '../../localcloud/pipeline-files';

/**
 * The current value of a secret shared with people outside the stack (the API key, a push
 * secret), which may be in rotation (see platform/secrets).
 */
export async function sharedSecret(arn: string): Promise<string> {
  const client = new SecretsManagerClient(localClientConfig());
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  return parseRotatingSecret(SecretString!).current;
}

export function testPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 });
  // An idle connection cut by the server (the fault suite restarts PostgreSQL) is dropped by
  // the pool; without a listener its 'error' event would end the test process.
  pool.on('error', () => undefined);
  return pool;
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

/** The steps of a run, in the order they started (ops.run_steps). */
export async function runSteps(pool: pg.Pool, runId: string): Promise<{ step: string; status: string }[]> {
  const { rows } = await pool.query<{ step: string; status: string }>(
    'SELECT step, status FROM ops.run_steps WHERE run_id = $1 ORDER BY id',
    [runId],
  );
  return rows;
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

/** Requests to the deployed API with the project's key, JSON bodies (the subscription operations). */
export function keyedApi(apiUrl: string, apiKey: () => string) {
  return (method: string, path: string, body?: unknown) =>
    callApi(apiUrl, path, {
      method,
      headers: {
        authorization: `Bearer ${apiKey()}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
}
