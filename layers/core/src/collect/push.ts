import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Project } from '../project';
import { finishRun, newRunId, startRun } from '../runs';
import { dropInLanding, type CollectContext } from './http-source';

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

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Receives a partner's file: `POST /<dataset>/<file name>`, authenticated with the dataset's
 * push secret (HMAC signature with a timestamp, or API key), then drops the body in the
 * landing zone, where ingestion takes it like any other file.
 */
export async function receivePush(
  context: CollectContext,
  project: Project,
  request: PushRequest,
  secretOf: (datasetId: string) => Promise<string>,
  now = Date.now(),
): Promise<PushResponse> {
  if (request.method !== 'POST')
    return problem(405, 'Method Not Allowed', 'send the file with POST /<dataset>/<file name>');
  const match = /^\/([a-z][a-z0-9-]*)\/([\w.-]+)$/.exec(request.path);
  if (!match) return problem(404, 'Not Found', 'the path must be /<dataset>/<file name>');
  const [, datasetId, filename] = match as unknown as [string, string, string];
  const dataset = project.datasets.find((candidate) => candidate.id === datasetId);
  const source = dataset?.config.sources.find((candidate) => candidate.type === 'push');
  if (!dataset || !source || source.type !== 'push')
    return problem(404, 'Not Found', `dataset ${datasetId} accepts no push`);

  const secret = await secretOf(dataset.id);
  const header = (name: string) => request.headers[name] ?? '';
  if (source.auth === 'api-key') {
    if (!sameText(header('x-api-key'), secret))
      return problem(401, 'Unauthorized', 'missing or wrong x-api-key');
  } else {
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
    if (!sameText(header('x-datacycle-signature'), signPush(secret, timestamp, request.body))) {
      return problem(
        401,
        'Unauthorized',
        'x-datacycle-signature does not match (v1=hex HMAC-SHA256 of "<timestamp>.<body>")',
      );
    }
  }
  if (request.body.length === 0) return problem(400, 'Bad Request', 'the body is empty');
  if (request.body.length > PUSH_MAX_BYTES)
    return problem(413, 'Content Too Large', `at most ${PUSH_MAX_BYTES} bytes per push`);

  const runId = newRunId();
  await startRun(context.pool, { id: runId, trigger: 'push', dataset: dataset.id, details: { filename } });
  const { key, bytes } = await dropInLanding(context, dataset.id, filename, Readable.from([request.body]), {
    runId,
    source: 'push',
  });
  await finishRun(context.pool, runId, 'succeeded', { details: { key, bytes } });
  return { status: 202, body: { runId, key, bytes, message: 'received; ingestion follows' } };
}
