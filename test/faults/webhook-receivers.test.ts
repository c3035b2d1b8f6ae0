/**
 * Fault: the receivers of one event misbehave at once, on the deployed stack. One is down
 * (connection refused), one hangs (never answers), one answers 429 with Retry-After, one
 * answers 410, one is healthy. The event is a file.rejected (a bad file dropped).
 *
 * Promised: the healthy receiver gets it once, at once, whatever the others do; the hanging one
 * is cut at the delivery timeout and retried; the 429 one is retried no sooner than it asked;
 * the 410 one is disabled after one request; the down one is retried on its schedule, parked in
 * the dead-letter queue, and a replay once it is back delivers it exactly once.
 * Asserted on the receivers and the deliveries the database records; figures in
 * .local/faults/webhook-receivers.json.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveWebhooks, type WebhookReceiver } from '../../localcloud/webhook-receiver';
import { DELIVERY_TIMEOUT_MS } from '@datacycle/core';
import {
  sharedSecret,
  keyedApi,
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { recordFigures } from './figures';

const outputs = readStackOutputs();
const pool = testPool();
let apiKey: string;
const receivers: Record<'healthy' | 'hang' | 'throttled' | 'gone' | 'down', WebhookReceiver | undefined> = {
  healthy: undefined,
  hang: undefined,
  throttled: undefined,
  gone: undefined,
  down: undefined,
};
const subscriptions: Record<string, { id: string; secret: string }> = {};
const RETRY_AFTER_SECONDS = 6;

const keyed = keyedApi(outputs.ApiUrl, () => apiKey);

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  log: { statusCode?: number | null; outcome: string; error?: string | null }[];
}
const deliveriesOf = async (name: string) =>
  (await keyed('GET', `/subscriptions/${subscriptions[name]!.id}/deliveries`)).json<{ data: Delivery[] }>()
    .data;
const settled = (name: string, status: string, timeoutMs: number) =>
  eventually(
    async () => (await deliveriesOf(name)).find((delivery) => delivery.status === status),
    timeoutMs,
    `the delivery to ${name} ${status}`,
  );

beforeAll(async () => {
  apiKey = await sharedSecret(outputs.ApiKeySecretArn);
  for (const name of ['healthy', 'hang', 'throttled', 'gone', 'down'] as const)
    receivers[name] = await receiveWebhooks();
  receivers.hang!.answers.push('hang');
  receivers.throttled!.answers.push({ status: 429, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } });
  receivers.gone!.answers.push({ status: 410 });
  for (const [name, receiver] of Object.entries(receivers)) {
    const created = await keyed('POST', '/subscriptions', {
      url: receiver!.url,
      events: ['file.rejected'],
      datasets: ['irve-statique'],
      retrySchedule: [0, 2, 2, 2],
      description: `faults: a receiver that is ${name}`,
    });
    expect(created.status).toBe(201);
    subscriptions[name] = created.json<{ id: string; secret: string }>();
    receiver!.secrets.push(subscriptions[name]!.secret);
  }
  // Down: nothing listens on its address any more.
  await receivers.down!.close();
});

afterAll(async () => {
  for (const subscription of Object.values(subscriptions))
    await keyed('DELETE', `/subscriptions/${subscription.id}`);
  for (const receiver of Object.values(receivers)) await receiver?.close();
  await pool.end();
});

describe('webhook receivers down, hanging, throttling and gone, beside a healthy one', () => {
  it('delivers to each as promised, loses nothing, and sends the healthy one the event once', async () => {
    const key = `irve-statique/${uniqueName('fault-webhooks')}.csv`;
    const dropped = Date.now();
    await localS3().send(
      new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: 'wrong,header\n1,2\n' }),
    );
    expect((await recordedFile(pool, key)).status).toBe('rejected');

    // Healthy: at once, not held up by the hanging one.
    const healthy = await eventually(
      async () => receivers.healthy!.received[0],
      30_000,
      'the healthy delivery',
    );
    const healthyLatency = healthy.receivedAt.getTime() - dropped;
    expect(healthy.verified).toBe('ok');
    expect(healthyLatency).toBeLessThan(DELIVERY_TIMEOUT_MS);

    // Gone: one request, the subscription disabled, nothing more.
    await settled('gone', 'failed', 30_000);
    const gone = (await keyed('GET', `/subscriptions/${subscriptions.gone!.id}`)).json<{
      enabled: boolean;
    }>();
    expect(gone.enabled).toBe(false);

    // Throttled: the second attempt no sooner than Retry-After (the schedule said 2 s).
    const throttled = await settled('throttled', 'succeeded', 60_000);
    expect(throttled.log.map((attempt) => [attempt.statusCode, attempt.outcome])).toEqual([
      [429, 'retry'],
      [204, 'succeeded'],
    ]);
    const throttledGap =
      receivers.throttled!.received[1]!.receivedAt.getTime() -
      receivers.throttled!.received[0]!.receivedAt.getTime();
    expect(throttledGap).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - 200);

    // Hanging: cut at the delivery timeout, then retried (same webhook-id) and delivered.
    const hang = await settled('hang', 'succeeded', DELIVERY_TIMEOUT_MS + 60_000);
    expect(hang.log.map((attempt) => attempt.outcome)).toEqual(['retry', 'succeeded']);
    expect(hang.log[0]!.error).toMatch(/no answer within 15 s/);
    const hangIds = receivers.hang!.received.map((request) => request.id);
    expect(new Set(hangIds).size).toBe(1);

    // Down: every attempt of its schedule refused, then failed (parked in the DLQ).
    const down = await settled('down', 'failed', 60_000);
    expect(down.attempts).toBe(4);
    // Back up on the same address: a replay delivers what it missed, once.
    receivers.down = await receiveWebhooks({
      port: Number(new URL(receivers.down!.url).port),
      secrets: [subscriptions.down!.secret],
    });
    const replay = await keyed('POST', `/subscriptions/${subscriptions.down!.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.json<{ replayed: string[] }>().replayed).toEqual([down.id]);
    await settled('down', 'succeeded', 30_000);
    expect(receivers.down.received.map((request) => [request.id, request.verified])).toEqual([
      [down.id, 'ok'],
    ]);

    // Nothing sent twice to the healthy one, nothing more to the gone one, a few seconds on.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(receivers.healthy!.received).toHaveLength(1);
    expect(receivers.gone!.received).toHaveLength(1);

    recordFigures('webhook-receivers', {
      healthyDeliveredAfterMs: healthyLatency,
      hangCutAfterSeconds: DELIVERY_TIMEOUT_MS / 1000,
      hangAttempts: hang.attempts,
      throttledRetryAfterSeconds: RETRY_AFTER_SECONDS,
      throttledSecondAttemptAfterMs: throttledGap,
      goneRequests: receivers.gone!.received.length,
      downAttemptsBeforeDlq: down.attempts,
      downReplayedDeliveries: receivers.down.received.length,
      healthyRequests: receivers.healthy!.received.length,
    });
  });
});
