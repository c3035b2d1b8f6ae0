import type { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { TerminalError, errorMessage, failedRun } from '../../platform/errors/errors';
import type { Dataset } from '../../platform/project';
import { RUN_ID_METADATA, finishRun, newRunId, startRun } from '../../platform/runs/runs';
import { httpGet, withBodyRetries, type HttpPolicy } from '../../platform/net/http-client';

export interface CollectContext {
  s3: S3Client;
  pool: pg.Pool;
  landingBucket: string;
  /** Overrides of the HTTP client's limits (timeouts, retries, sizes). */
  http?: Partial<HttpPolicy>;
  /** Reads a Secrets Manager secret by name (source credentials). */
  secretValue?: (name: string) => Promise<string>;
}

type SourceAuth = { header: string; prefix: string; secret: string };

/** The header a source's `auth` asks for, its value read from Secrets Manager. */
export async function authHeaders(
  context: CollectContext,
  auth: SourceAuth | undefined,
): Promise<Record<string, string>> {
  if (!auth) return {};
  if (!context.secretValue) throw new TerminalError(`source credentials ${auth.secret} cannot be read here`);
  return { [auth.header.toLowerCase()]: `${auth.prefix}${await context.secretValue(auth.secret)}` };
}

export type CollectOutcome =
  { status: 'collected'; runId: string; key: string; bytes: number } | { status: 'unchanged'; runId: string };

interface SourceState {
  etag: string | null;
  last_modified: string | null;
}

/**
 * Fetches an `http` source and drops the body in the landing bucket, where the S3 event
 * hands it to ingestion. A conditional GET (ETag / Last-Modified) makes an unchanged file
 * cost one request; ingestion's content hash catches servers that ignore it.
 */
export async function collectHttpSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex];
  if (!source || source.type !== 'http') {
    throw new TerminalError(
      `dataset ${dataset.id} has no http source #${sourceIndex}`,
      'redeploy the stack after editing the project',
    );
  }
  return collectFile(context, dataset, sourceIndex, source);
}

/** One file at a URL (an http source, or an API's export endpoint), fetched conditionally. */
export async function collectFile(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
  source: { url: string; auth?: SourceAuth; filename?: string },
): Promise<CollectOutcome> {
  const { pool } = context;
  const runId = newRunId();
  await startRun(pool, {
    step: 'collect',
    id: runId,
    trigger: 'schedule',
    dataset: dataset.id,
    details: { url: source.url },
  });
  try {
    const state = await readState(pool, dataset.id, sourceIndex);
    const credentials = { headers: await authHeaders(context, source.auth) };
    const headers: Record<string, string> = {};
    if (state?.etag) headers['if-none-match'] = state.etag;
    if (state?.last_modified) headers['if-modified-since'] = state.last_modified;

    // The GET and the upload of its body as one attempt: a body cut half-way is fetched again.
    const fetched = await withBodyRetries(
      source.url,
      async () => {
        const response = await httpGet(source.url, {
          headers,
          credentials,
          policy: context.http,
          acceptNotModified: true,
        });
        if (response.status === 304) return { response };
        const filename = source.filename ?? (new URL(source.url).pathname.split('/').pop() || 'download');
        const landed = await dropInLanding(context, dataset.id, filename, response.body, {
          runId,
          source: source.url,
        });
        return { response, landed };
      },
      { policy: context.http },
    );
    const { response } = fetched;
    if (!fetched.landed) {
      await saveState(pool, dataset.id, sourceIndex, source.url, state, false);
      await finishRun(pool, runId, 'collect', 'skipped', { details: { http: 304, reason: 'not modified' } });
      return { status: 'unchanged', runId };
    }
    const { key, bytes } = fetched.landed;
    await saveState(
      pool,
      dataset.id,
      sourceIndex,
      source.url,
      { etag: response.headers.get('etag'), last_modified: response.headers.get('last-modified') },
      true,
    );
    await finishRun(pool, runId, 'collect', 'succeeded', { details: { http: response.status, key, bytes } });
    return { status: 'collected', runId, key, bytes };
  } catch (error) {
    await finishRun(pool, runId, 'collect', 'failed', { error: errorMessage(error) }).catch(() => undefined);
    throw failedRun(error, runId);
  }
}

/** Where a collected or pushed file lands: the dataset's prefix, a UTC stamp, the run, the name. */
export function landingKey(datasetId: string, filename: string, runId: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // The run id keeps two collections in the same second apart.
  return `${datasetId}/${stamp}-${runId.slice(0, 8)}-${filename}`;
}

/** Streams a collected payload into the landing bucket, where the S3 event hands it to ingestion. */
export async function dropInLanding(
  context: CollectContext,
  datasetId: string,
  filename: string,
  body: Readable,
  metadata: { runId: string; source: string },
): Promise<{ key: string; bytes: number }> {
  const key = landingKey(datasetId, filename, metadata.runId);
  let bytes = 0;
  body.on('data', (chunk: Buffer) => (bytes += chunk.length));
  await new Upload({
    client: context.s3,
    params: {
      Bucket: context.landingBucket,
      Key: key,
      Body: body,
      Metadata: { [RUN_ID_METADATA]: metadata.runId, 'datacycle-source': metadata.source },
    },
  }).done();
  return { key, bytes };
}

async function readState(
  pool: pg.Pool,
  dataset: string,
  sourceIndex: number,
): Promise<SourceState | undefined> {
  const { rows } = await pool.query<SourceState>(
    'SELECT etag, last_modified FROM ops.source_state WHERE dataset = $1 AND source_index = $2',
    [dataset, sourceIndex],
  );
  return rows[0];
}

async function saveState(
  pool: pg.Pool,
  dataset: string,
  sourceIndex: number,
  url: string,
  state: SourceState | undefined,
  changed: boolean,
) {
  await pool.query(
    `INSERT INTO ops.source_state (dataset, source_index, url, etag, last_modified, last_checked_at, last_changed_at)
     VALUES ($1, $2, $3, $4, $5, now(), CASE WHEN $6 THEN now() END)
     ON CONFLICT (dataset, source_index) DO UPDATE SET url = $3, etag = $4, last_modified = $5, last_checked_at = now(),
       last_changed_at = CASE WHEN $6 THEN now() ELSE ops.source_state.last_changed_at END`,
    [dataset, sourceIndex, url, state?.etag ?? null, state?.last_modified ?? null, changed],
  );
}
