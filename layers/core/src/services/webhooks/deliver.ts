import type pg from 'pg';
import { raiseAlert, type AlertContext, type DeliveryAttempt } from '../../platform/events';
import { USER_AGENT, retryAfterMs } from '../../platform/net/http-client';
import { errorMessage } from '../../platform/errors/errors';
import { guardedFetch, type NetworkPolicy } from '../../platform/net/guard';
import { inTransaction } from '../../platform/warehouse';
import { valuesInForce } from '../../platform/secrets';
import { prefetchSigningSecrets, readSigningSecret, type SecretStore } from './secrets';
import { signedHeaders } from './signing';

/** How long a subscription's signing secrets are reused (a rotation is picked up within it). */
const SECRET_CACHE_MS = 60_000;
/** A 2xx within this time is a success. */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** Payloads are small (links, not data); a larger one is a bug. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Bytes of an answer kept for the attempt log. */
const MAX_ANSWER_BYTES = 2 * 1024;
/** Longest wait a Retry-After may ask for (12 h, as the schedule's longest gap). */
const MAX_RETRY_AFTER_SECONDS = 43_200;

export interface DeliveryContext extends AlertContext {
  pool: pg.Pool;
  secrets: SecretStore;
  network: NetworkPolicy;
  retrySchedule: number[];
  disableAfterHours: number;
  /** A 2xx within this time is a success (15 s). */
  timeoutMs?: number;
  now?: () => Date;
  random?: () => number;
}

export type DeliveryOutcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'succeeded'; statusCode: number }
  | { kind: 'retry'; attempt: number; notBefore: Date; error: string }
  | { kind: 'failed'; error: string }
  | { kind: 'gone' };

interface Claimed {
  id: string;
  status: string;
  attempts: number;
  payload: unknown;
  event_type: string;
  subscription_id: string;
  url: string;
  enabled: boolean;
  owner_email: string | null;
  retry_schedule: number[] | null;
  failing_since: Date | null;
}

interface Attempt {
  statusCode?: number;
  latencyMs: number;
  error?: string;
  retryAfterSeconds?: number;
}

/** POSTs the payload, signed; never throws: what happened is in the result. */
async function post(context: DeliveryContext, delivery: Claimed, body: string): Promise<Attempt> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const stored = await readSigningSecret(context.secrets, delivery.subscription_id, SECRET_CACHE_MS);
    const response = await guardedFetch(
      delivery.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...signedHeaders(
            valuesInForce(stored, context.now?.().getTime()),
            delivery.id,
            body,
            context.now?.(),
          ),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(context.timeoutMs ?? DELIVERY_TIMEOUT_MS),
      },
      context.network,
    );
    const answer = await readSome(response.body);
    const statusCode = response.status;
    if (statusCode >= 200 && statusCode < 300) return { statusCode, latencyMs: latency() };
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    return {
      statusCode,
      latencyMs: latency(),
      error:
        statusCode >= 300 && statusCode < 400
          ? `redirect ${statusCode} to ${response.headers.get('location') ?? '?'} (redirects are not followed)`
          : `HTTP ${statusCode}${answer ? `: ${answer}` : ''}`,
      retryAfterSeconds: retryAfter !== undefined ? Math.ceil(retryAfter / 1000) : undefined,
    };
  } catch (error) {
    const cause = (error as Error).cause;
    const message =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${(context.timeoutMs ?? DELIVERY_TIMEOUT_MS) / 1000} s`
        : cause instanceof Error
          ? cause.message
          : errorMessage(error);
    return { latencyMs: latency(), error: message };
  }
}

async function readSome(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 300).replace(/\s+/g, ' ').trim();
}

/** How long an attempt holds its delivery: longer than any request, short enough to recover. */
const CLAIM_SECONDS = 60;
/**
 * Requests out at the same time in one container, whatever the bundles they belong to (each
 * waits DELIVERY_TIMEOUT_MS at most): sockets stay well under Lambda's 1,024 descriptors.
 */
export const REQUESTS_AT_ONCE = 200;
const requestSlots = slots(REQUESTS_AT_ONCE);

/** One attempt of one delivery (see attemptDeliveries). */
export async function attemptDelivery(
  context: DeliveryContext,
  deliveryId: string,
  attempt: number,
): Promise<DeliveryOutcome> {
  const [outcome] = await attemptDeliveries(context, [{ deliveryId, attempt }]);
  return outcome!;
}

/**
 * Attempts of several deliveries, `attempt` being the attempt each message was sent for. They
 * are claimed (status `sending`, for a minute) in one statement; their requests go out
 * together (`REQUESTS_AT_ONCE` at most in the container) over kept-alive connections, holding no database
 * connection; the outcomes are recorded, every attempt in ops.delivery_attempts and the
 * summary on the delivery: the successes in one transaction, each other outcome in its own
 * (it may disable a subscription). A duplicate message finds its delivery claimed or past its
 * attempt, and is dropped. Outcomes come back in the order of `attempts`.
 */
export async function attemptDeliveries(
  context: DeliveryContext,
  attempts: DeliveryAttempt[],
): Promise<DeliveryOutcome[]> {
  const { rows } = await context.pool.query<Claimed & { attempt: number }>(
    `UPDATE ops.deliveries d SET status = 'sending', claimed_until = now() + make_interval(secs => $3)
     FROM ops.subscriptions s, unnest($1::text[], $2::int[]) AS wanted(id, attempt)
     WHERE d.id = wanted.id AND d.attempts = wanted.attempt AND s.id = d.subscription_id AND s.enabled
       AND (d.status IN ('pending', 'retrying') OR (d.status = 'sending' AND d.claimed_until < now()))
     RETURNING d.id, d.status, d.attempts, d.payload, d.event_type, d.subscription_id,
       s.url, s.enabled, s.owner_email, s.retry_schedule, s.failing_since`,
    [attempts.map((item) => item.deliveryId), attempts.map((item) => item.attempt), CLAIM_SECONDS],
  );
  const claimed = new Map(rows.map((row) => [row.id, row]));
  if (rows.length > 1)
    await prefetchSigningSecrets(
      context.secrets,
      rows.map((row) => row.subscription_id),
      SECRET_CACHE_MS,
    );
  const outcomes: DeliveryOutcome[] = new Array<DeliveryOutcome>(attempts.length);
  const made: Made[] = [];
  await Promise.all(
    attempts.map(async ({ deliveryId, attempt }, index) => {
      const delivery = claimed.get(deliveryId);
      if (!delivery) {
        outcomes[index] = await skipped(context, deliveryId, attempt);
        return;
      }
      const body = JSON.stringify(delivery.payload);
      const result =
        Buffer.byteLength(body) > MAX_PAYLOAD_BYTES
          ? { latencyMs: 0, error: `payload of ${Buffer.byteLength(body)} bytes over the limit` }
          : await requestSlots(() => post(context, delivery, body));
      made.push({ index, delivery, attempt, result, outcome: outcomeOf(context, delivery, attempt, result) });
    }),
  );
  const succeeded = made.filter((one) => one.outcome.kind === 'succeeded');
  if (succeeded.length > 0) await recordSuccesses(context, succeeded);
  for (const one of made) {
    if (one.outcome.kind !== 'succeeded') await recordFailure(context, one);
    outcomes[one.index] = one.outcome;
  }
  return outcomes;
}

/** An attempt made: what was asked, what happened, what follows. */
interface Made {
  index: number;
  delivery: Claimed;
  attempt: number;
  result: Attempt;
  outcome: DeliveryOutcome;
}

/** A limiter: `run(work)` starts `work` when fewer than `size` are running. */
function slots(size: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** What follows an attempt: done, gone, failed for good, or the next attempt at its time. */
function outcomeOf(
  context: DeliveryContext,
  delivery: Claimed,
  attempt: number,
  result: Attempt,
): DeliveryOutcome {
  const schedule = delivery.retry_schedule ?? context.retrySchedule;
  const made = attempt + 1;
  if (result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300)
    return { kind: 'succeeded', statusCode: result.statusCode };
  if (result.statusCode === 410) return { kind: 'gone' };
  if (made >= schedule.length) return { kind: 'failed', error: result.error ?? 'failed' };
  // The schedule's wait, ±10 % so that retries of many deliveries spread out; a longer
  // Retry-After is honoured (up to 12 h).
  const planned = schedule[made]! * (0.9 + 0.2 * (context.random ?? Math.random)());
  const wait = Math.max(planned, Math.min(result.retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS));
  const now = context.now?.() ?? new Date();
  return {
    kind: 'retry',
    attempt: made,
    notBefore: new Date(now.getTime() + wait * 1000),
    error: result.error ?? 'failed',
  };
}

/** The successes of a bundle, in one transaction: their attempts, their deliveries, their subscriptions' health. */
async function recordSuccesses(context: DeliveryContext, succeeded: Made[]): Promise<void> {
  const ids = succeeded.map((one) => one.delivery.id);
  const attempts = succeeded.map((one) => one.attempt + 1);
  const codes = succeeded.map((one) => one.result.statusCode ?? null);
  const latencies = succeeded.map((one) => one.result.latencyMs);
  await inTransaction(context.pool, async (client) => {
    await client.query(
      `INSERT INTO ops.delivery_attempts (delivery_id, attempt, status_code, latency_ms, outcome)
       SELECT id, attempt, status_code, latency_ms, 'succeeded'
       FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS made(id, attempt, status_code, latency_ms)`,
      [ids, attempts, codes, latencies],
    );
    await client.query(
      `UPDATE ops.deliveries d SET attempts = made.attempt, status = 'succeeded', last_status_code = made.status_code,
         last_latency_ms = made.latency_ms, last_error = NULL, next_attempt_at = NULL, claimed_until = NULL,
         finished_at = now()
       FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS made(id, attempt, status_code, latency_ms)
       WHERE d.id = made.id`,
      [ids, attempts, codes, latencies],
    );
    await client.query(
      `UPDATE ops.subscriptions SET failing_since = NULL WHERE id = ANY ($1) AND failing_since IS NOT NULL`,
      [[...new Set(succeeded.map((one) => one.delivery.subscription_id))]],
    );
  });
}

/** An attempt that did not succeed: recorded, its subscription marked failing (and disabled past the limit). */
async function recordFailure(context: DeliveryContext, made: Made): Promise<void> {
  const { delivery, attempt, result, outcome } = made;
  const now = () => context.now?.() ?? new Date();
  await inTransaction(context.pool, async (client) => {
    await client.query(
      `INSERT INTO ops.delivery_attempts (delivery_id, attempt, status_code, latency_ms, error, outcome)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        delivery.id,
        attempt + 1,
        result.statusCode ?? null,
        result.latencyMs,
        result.error ?? null,
        outcome.kind,
      ],
    );
    await client.query(
      `UPDATE ops.deliveries SET attempts = $2, status = $3, last_status_code = $4, last_latency_ms = $5,
         last_error = $6, next_attempt_at = $7, claimed_until = NULL,
         finished_at = CASE WHEN $3 = 'failed' THEN now() END
       WHERE id = $1`,
      [
        delivery.id,
        attempt + 1,
        outcome.kind === 'retry' ? 'retrying' : 'failed',
        result.statusCode ?? null,
        result.latencyMs,
        result.error ?? null,
        outcome.kind === 'retry' ? outcome.notBefore : null,
      ],
    );
    const failingSince = delivery.failing_since ?? now();
    await client.query(
      `UPDATE ops.subscriptions SET failing_since = coalesce(failing_since, $2) WHERE id = $1`,
      [delivery.subscription_id, failingSince],
    );
    const failingHours = (now().getTime() - failingSince.getTime()) / 3_600_000;
    if (outcome.kind === 'gone' || failingHours >= context.disableAfterHours) {
      const reason =
        outcome.kind === 'gone'
          ? 'the endpoint answered 410 Gone'
          : `deliveries failing for ${Math.floor(failingHours)} h (last: ${result.error})`;
      await disable(context, client, delivery, reason);
    }
  });
}

/** Why a message found nothing to attempt (and a disabled subscription's delivery cancelled). */
async function skipped(
  context: DeliveryContext,
  deliveryId: string,
  attempt: number,
): Promise<DeliveryOutcome> {
  const { rows } = await context.pool.query<{ status: string; attempts: number; enabled: boolean }>(
    `SELECT d.status, d.attempts, s.enabled FROM ops.deliveries d JOIN ops.subscriptions s ON s.id = d.subscription_id
     WHERE d.id = $1`,
    [deliveryId],
  );
  const found = rows[0];
  if (!found) return { kind: 'skipped', reason: 'unknown delivery' };
  if (!found.enabled && ['pending', 'retrying'].includes(found.status)) {
    await context.pool.query(
      `UPDATE ops.deliveries SET status = 'cancelled', finished_at = now(), last_error = 'subscription disabled' WHERE id = $1`,
      [deliveryId],
    );
    return { kind: 'skipped', reason: 'subscription disabled' };
  }
  if (found.status === 'sending') return { kind: 'skipped', reason: 'being delivered by another attempt' };
  if (found.attempts !== attempt)
    return { kind: 'skipped', reason: `a duplicate message (attempt ${attempt}, ${found.attempts} made)` };
  return { kind: 'skipped', reason: `already ${found.status}` };
}

async function disable(context: DeliveryContext, client: pg.PoolClient, delivery: Claimed, reason: string) {
  await client.query(
    `UPDATE ops.subscriptions SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1`,
    [delivery.subscription_id, reason],
  );
  // Pending deliveries of a disabled subscription stop here.
  await client.query(
    `UPDATE ops.deliveries SET status = 'cancelled', finished_at = now(), last_error = 'subscription disabled'
     WHERE subscription_id = $1 AND status IN ('pending', 'retrying', 'sending') AND id <> $2`,
    [delivery.subscription_id, delivery.id],
  );
  await raiseAlert(
    { pool: client, eventBus: context.eventBus },
    {
      kind: 'subscription-disabled',
      severity: 'warning',
      subject: delivery.subscription_id,
      title: `webhook subscription ${delivery.subscription_id} disabled: ${reason}`,
      message: `deliveries to ${new URL(delivery.url).host} stopped${delivery.owner_email ? ` (owner: ${delivery.owner_email})` : ''}`,
      hint: 'fix the endpoint, enable the subscription again (datacycle webhooks enable <id>), then replay its failed deliveries (datacycle webhooks replay --subscription <id>)',
      details: { owner: delivery.owner_email, url: delivery.url },
    },
  );
}

/**
 * Makes deliveries due again from their first attempt (same webhook-id, so a subscriber that
 * already has one can tell): one delivery, or every failed delivery of a subscription.
 */
export async function replayDeliveries(
  pool: pg.Pool,
  target: { deliveryId: string } | { subscriptionId: string },
): Promise<string[]> {
  const byDelivery = 'deliveryId' in target;
  const { rows: subscription } = await pool.query<{ enabled: boolean; id: string }>(
    byDelivery
      ? `SELECT s.enabled, s.id FROM ops.deliveries d JOIN ops.subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`
      : `SELECT enabled, id FROM ops.subscriptions WHERE id = $1`,
    [byDelivery ? target.deliveryId : target.subscriptionId],
  );
  if (!subscription[0])
    throw new ReplayError(`no ${byDelivery ? 'delivery' : 'subscription'} with that id`, 404);
  if (!subscription[0].enabled)
    throw new ReplayError(`subscription ${subscription[0].id} is disabled: enable it before replaying`, 409);
  const { rows } = await pool.query<{ id: string }>(
    `UPDATE ops.deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL
     WHERE ${byDelivery ? "id = $1 AND status <> 'pending'" : "subscription_id = $1 AND status IN ('failed', 'cancelled')"}
     RETURNING id`,
    [byDelivery ? target.deliveryId : target.subscriptionId],
  );
  return rows.map((row) => row.id);
}

export class ReplayError extends Error {
  override name = 'ReplayError';
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}
