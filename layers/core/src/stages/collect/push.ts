import { createHmac } from 'node:crypto';
import { sameSecret } from '../../platform/secrets';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Project } from '../../platform/project';
import { RUN_ID_METADATA, finishRun, newRunId, startRun } from '../../platform/runs/runs';
import { dropInLanding, landingKey, type CollectContext } from './http-source';

/** A request to the push endpoint, as the handler extracts it from the function URL event. */
export const pushRequestSchema = z.object({
  method: z.string(),
  path: z.string(),
  headers: z.record(z.string(), z.string().optional()),
  body: z.instanceof(Buffer),
});
export type PushRequest = z.infer<typeof pushRequestSchema>;

export interface PushResponse {
  status: number;
  body: Record<string, unknown>;
}

export const PUSH_MAX_BYTES = 5 * 1024 * 1024;
/** Signed requests older (or newer) than this are refused: a captured request cannot be replayed later. */
export const PUSH_TOLERANCE_SECONDS = 300;

const problem = (status: number, title: string, detail: string): PushResponse => ({
  status,
  body: { type: 'about:blank', title, status, detail },
});

/** HMAC-SHA256 signature of a push: `v1=<hex>` over "<timestamp>.<body>". */
export function signPush(secret: string, timestamp: number, body: Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** Where and how the partner uploads a large file (answer to POST /<dataset>/<file>/upload-url). */
export interface UploadGrant {
  method: 'PUT';
  url: string;
  key: string;
  /** The upload must carry exactly this content-length (it is part of the signature). */
  headers: Record<string, string>;
  expiresInSeconds: number;
}

/** Signs a direct PUT of `bytes` bytes into the landing bucket (see presignLandingPut). */
export type PresignPut = (key: string, bytes: number, metadata: Record<string, string>) => Promise<string>;

/** A file of up to 5 GiB (one S3 PUT) may go through an upload URL. */
export const UPLOAD_MAX_BYTES = 5 * 1024 ** 3;
export const UPLOAD_URL_SECONDS = 900;

const uploadRequestSchema = z.object({ bytes: z.number().int().positive().max(UPLOAD_MAX_BYTES) });

/**
 * The push endpoint, authenticated with the dataset's push secret (HMAC signature with a
 * timestamp, or API key):
 *   POST /<dataset>/<file name>            the file in the body (up to 5 MB): dropped in landing/
 *   POST /<dataset>/<file name>/upload-url {"bytes": n}: a presigned PUT for a larger file, straight
 *                                          into landing/ (S3 then notifies ingestion as for any drop)
 */
export async function receivePush(
  context: CollectContext & { presignPut?: PresignPut },
  project: Project,
  request: PushRequest,
  secretMatches: SecretCheck,
  now = Date.now(),
): Promise<PushResponse> {
  if (request.method !== 'POST')
    return problem(405, 'Method Not Allowed', 'send the file with POST /<dataset>/<file name>');
  const match = /^\/([a-z][a-z0-9-]*)\/([\w.-]+)(\/upload-url)?$/.exec(request.path);
  if (!match) return problem(404, 'Not Found', 'the path must be /<dataset>/<file name>[/upload-url]');
  const [, datasetId, filename, uploadUrl] = match as unknown as [string, string, string, string | undefined];
  const dataset = project.datasets.find((candidate) => candidate.id === datasetId);
  const source = dataset?.config.sources.find((candidate) => candidate.type === 'push');
  if (!dataset || !source || source.type !== 'push')
    return problem(404, 'Not Found', `dataset ${datasetId} accepts no push`);

  const refused = await authenticate(
    request,
    source.auth,
    (matches) => secretMatches(dataset.id, matches),
    now,
  );
  if (refused) return refused;
  if (uploadUrl) return grantUpload(context, dataset.id, filename, request.body);

  if (request.body.length === 0) return problem(400, 'Bad Request', 'the body is empty');
  if (request.body.length > PUSH_MAX_BYTES) {
    return problem(
      413,
      'Content Too Large',
      `at most ${PUSH_MAX_BYTES} bytes per push: ask POST /${dataset.id}/${filename}/upload-url for an upload URL`,
    );
  }

  const runId = newRunId();
  await startRun(context.pool, {
    step: 'push',
    id: runId,
    trigger: 'push',
    dataset: dataset.id,
    details: { filename },
  });
  const { key, bytes } = await dropInLanding(context, dataset.id, filename, Readable.from([request.body]), {
    runId,
    source: 'push',
  });
  await finishRun(context.pool, runId, 'push', 'succeeded', { details: { key, bytes } });
  return { status: 202, body: { runId, key, bytes, message: 'received; ingestion follows' } };
}

/**
 * Whether a presented value matches the dataset's push secret: its current value, or the one
 * it replaced during a rotation's overlap (see platform/secrets).
 */
export type SecretCheck = (datasetId: string, matches: (secret: string) => boolean) => Promise<boolean>;

async function authenticate(
  request: PushRequest,
  auth: 'hmac' | 'api-key',
  secretMatches: (matches: (secret: string) => boolean) => Promise<boolean>,
  now: number,
): Promise<PushResponse | undefined> {
  const header = (name: string) => request.headers[name] ?? '';
  if (auth === 'api-key') {
    return (await secretMatches((secret) => sameSecret(header('x-api-key'), secret)))
      ? undefined
      : problem(401, 'Unauthorized', 'missing or wrong x-api-key');
  }
  const timestamp = Number(header('x-datacycle-timestamp'));
  if (!Number.isInteger(timestamp))
    return problem(401, 'Unauthorized', 'missing x-datacycle-timestamp (Unix seconds)');
  if (Math.abs(now / 1000 - timestamp) > PUSH_TOLERANCE_SECONDS) {
    return problem(
      401,
      'Unauthorized',
      `x-datacycle-timestamp is more than ${PUSH_TOLERANCE_SECONDS} s away from now`,
    );
  }
  const signature = header('x-datacycle-signature');
  if (!(await secretMatches((secret) => sameSecret(signature, signPush(secret, timestamp, request.body))))) {
    return problem(
      401,
      'Unauthorized',
      'x-datacycle-signature does not match (v1=hex HMAC-SHA256 of "<timestamp>.<body>")',
    );
  }
  return undefined;
}

async function grantUpload(
  context: CollectContext & { presignPut?: PresignPut },
  datasetId: string,
  filename: string,
  body: Buffer,
): Promise<PushResponse> {
  let parsed;
  try {
    parsed = uploadRequestSchema.safeParse(JSON.parse(body.toString('utf8') || '{}'));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    return problem(
      400,
      'Bad Request',
      `send {"bytes": <size of the file>} (at most ${UPLOAD_MAX_BYTES} bytes) to get an upload URL`,
    );
  }
  if (!context.presignPut) return problem(501, 'Not Implemented', 'upload URLs are not available here');
  const runId = newRunId();
  const key = landingKey(datasetId, filename, runId);
  const url = await context.presignPut(key, parsed.data.bytes, {
    [RUN_ID_METADATA]: runId,
    'datacycle-source': 'push',
  });
  // The run ends here: what follows is an ordinary drop, ingested (and recorded) under this key.
  await startRun(context.pool, {
    step: 'push',
    id: runId,
    trigger: 'push',
    dataset: datasetId,
    details: { filename },
  });
  await finishRun(context.pool, runId, 'push', 'succeeded', {
    details: { key, bytes: parsed.data.bytes, upload: 'presigned' },
  });
  const grant: UploadGrant = {
    method: 'PUT',
    url,
    key,
    headers: { 'content-length': String(parsed.data.bytes) },
    expiresInSeconds: UPLOAD_URL_SECONDS,
  };
  return { status: 201, body: { runId, ...grant } };
}
