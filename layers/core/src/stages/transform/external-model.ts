import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import { isTransient } from '../../platform/errors/errors';
import type { Model } from '../../platform/project/model';
import { quoteIdent } from '../../platform/warehouse';
import type { ColumnKind, ModelRunners, RunnerEvent } from './runners';

/** Where a pass hands relations to the runners and takes their results back. */
export interface ModelExchange {
  s3: S3Client;
  bucket: string;
  /** Key prefix of the exchanged files (deleted after each model; a lifecycle rule sweeps leftovers). */
  prefix: string;
  runners: ModelRunners;
}

export const EXCHANGE_PREFIX = 'transform-exchange/';
/** How long a runner's URLs stay valid: longer than the runner's own timeout. */
const URL_SECONDS = 20 * 60;

const kindsByType: Record<string, ColumnKind> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  float4: 'number',
  float8: 'number',
  numeric: 'number',
  bool: 'boolean',
  date: 'date',
  timestamp: 'datetime',
  timestamptz: 'datetimetz',
  geometry: 'geometry',
};

const typesByKind: Record<ColumnKind, string> = {
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamp',
  datetimetz: 'timestamptz',
  geometry: 'text',
  string: 'text',
};

/**
 * Builds a Python or R model into `building`, inside the pass's transaction: its inputs (which
 * may exist only in this transaction) go to the exchange as CSV, its runner computes the result
 * from them, and the result comes back by COPY. Returns what went wrong, located in the file.
 */
export async function buildExternalModel(
  client: pg.PoolClient,
  model: Model,
  building: string,
  resolve: (kind: 'ref' | 'source', name: string) => string,
  exchange: ModelExchange,
): Promise<string | undefined> {
  const where = (line?: number | null) =>
    `model ${model.name} (${model.file}${line ? `, line ${line}` : ''})`;
  const folder = `${exchange.prefix}${randomUUID()}/${model.name}/`;
  const keys: string[] = [];
  try {
    const inputs: RunnerEvent['inputs'] = [];
    for (const input of model.inputs) {
      const relation = resolve(input.kind, input.name);
      const columns = await columnsOf(client, relation);
      const missing = (input.columns ?? []).filter((name) => !columns.some((column) => column.name === name));
      if (missing.length > 0)
        return `${where()}: input ${input.parameter}: no column ${missing.join(', ')} in ${input.kind}('${input.name}')`;
      const wanted = input.columns
        ? input.columns.map((name) => columns.find((column) => column.name === name)!)
        : columns;
      const key = `${folder}${input.parameter}.csv`;
      keys.push(key);
      await exportRelation(client, relation, wanted, exchange, key);
      inputs.push({ parameter: input.parameter, url: await presign(exchange, 'GET', key), columns: wanted });
    }
    const outputKey = `${folder}result.csv`;
    keys.push(outputKey);
    const answer = await exchange.runners.run(model.language as 'python' | 'r', {
      model: model.name,
      file: model.file,
      code: model.code,
      inputs,
      output: { url: await presign(exchange, 'PUT', outputKey) },
    });
    if (!answer.ok) return `${where(answer.line)}: ${answer.error}`;
    await client.query('SAVEPOINT model');
    try {
      await client.query(`DROP VIEW IF EXISTS ${building}; DROP TABLE IF EXISTS ${building}`);
      await client.query(
        `CREATE TABLE ${building} (${answer.columns.map((c) => `${quoteIdent(c.name)} ${typesByKind[c.kind]}`).join(', ')})`,
      );
      const body = (await exchange.s3.send(new GetObjectCommand({ Bucket: exchange.bucket, Key: outputKey })))
        .Body as Readable;
      await pipeline(body, client.query(copyFrom(`COPY ${building} FROM STDIN (FORMAT csv, HEADER)`)));
      await client.query('RELEASE SAVEPOINT model');
    } catch (error) {
      if (isTransient(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT model');
      return `${where()}: its result could not be stored: ${(error as Error).message}`;
    }
    return undefined;
  } finally {
    await exchange.s3
      .send(
        new DeleteObjectsCommand({
          Bucket: exchange.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      )
      .catch(() => undefined); // the lifecycle rule sweeps what is left
  }
}

/** A relation's columns and their kinds (it may be a table or view of this transaction). */
async function columnsOf(
  client: pg.PoolClient,
  relation: string,
): Promise<{ name: string; kind: ColumnKind }[]> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, t.typname AS type FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [relation],
  );
  return rows.map((row) => ({ name: row.name, kind: kindsByType[row.type] ?? 'string' }));
}

/** The relation as CSV with a header, streamed to the exchange; times in ISO 8601, geometries as EWKT. */
async function exportRelation(
  client: pg.PoolClient,
  relation: string,
  columns: { name: string; kind: ColumnKind }[],
  exchange: ModelExchange,
  key: string,
): Promise<void> {
  const select = columns.map(({ name, kind }) => {
    const column = quoteIdent(name);
    if (kind === 'geometry') return `ST_AsEWKT(${column}) AS ${column}`;
    // true/false rather than COPY's t/f: what pandas and R read as booleans.
    if (kind === 'boolean') return `${column}::text AS ${column}`;
    if (kind === 'datetime') return `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS ${column}`;
    if (kind === 'datetimetz')
      return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${column}`;
    return column;
  });
  const copy = client.query(
    copyTo(`COPY (SELECT ${select.join(', ')} FROM ${relation}) TO STDOUT (FORMAT csv, HEADER)`),
  );
  await new Upload({
    client: exchange.s3,
    params: { Bucket: exchange.bucket, Key: key, Body: copy, ContentType: 'text/csv' },
    partSize: 8 * 1024 * 1024,
  }).done();
}

async function presign(exchange: ModelExchange, method: 'GET' | 'PUT', key: string): Promise<string> {
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const command =
    method === 'GET'
      ? new GetObjectCommand({ Bucket: exchange.bucket, Key: key })
      : new PutObjectCommand({ Bucket: exchange.bucket, Key: key });
  return getSignedUrl(exchange.s3, command, { expiresIn: URL_SECONDS });
}
