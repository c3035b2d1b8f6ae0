/**
 * Webhooks end to end on the deployed stack: a drop leads to signed deliveries at the
 * project's declared subscriber, which verifies them; a subscriber created through the API
 * that keeps failing is retried on its schedule, ends in the DLQ, and is replayed once fixed.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig, localSqs } from '../../localcloud/aws-clients';
import {
  receiveWebhooks,
  webhookReceiverPort,
  type WebhookReceiver,
} from '../../localcloud/webhook-receiver';
import {
  sharedSecret,
  ensureDepartements,
  keyedApi,
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { irveExample } from '../helpers/projects';

const outputs = readStackOutputs();
const s3 = localS3();
const sqs = localSqs();
const pool = testPool();
const secrets = new SecretsManagerClient(localClientConfig());
let demo: WebhookReceiver;
let failing: WebhookReceiver;
let apiKey: string;

const secretOf = async (id: string) =>
  (
    JSON.parse(
      (await secrets.send(new GetSecretValueCommand({ SecretId: `datacycle/territoires/webhooks/${id}` })))
        .SecretString!,
    ) as { current: string }
  ).current;

const keyed = keyedApi(outputs.ApiUrl, () => apiKey);

type Payload = { type: string; data: { dataset?: string; runIds?: string[]; runId?: string } };
const payloads = (receiver: WebhookReceiver) =>
  receiver.received.map((r) => ({ ...r, payload: JSON.parse(r.body) as Payload }));

beforeAll(async () => {
  await ensureDepartements(pool);
  apiKey = await sharedSecret(outputs.ApiKeySecretArn);
  const { rows } = await pool.query<{ id: string }>(
    "SELECT id FROM ops.subscriptions WHERE name = 'territoires/demo-subscriber'",
  );
  expect(rows).toHaveLength(1);
  // The declared subscriber, as the demo runs it, and enabled whatever an earlier run did.
  await keyed('PATCH', `/subscriptions/${rows[0]!.id}`, { enabled: true });
  demo = await receiveWebhooks({ port: webhookReceiverPort, secrets: [await secretOf(rows[0]!.id)] });
  failing = await receiveWebhooks();
  await sqs.send(new PurgeQueueCommand({ QueueUrl: outputs.DeliveriesDlqUrl })).catch(() => undefined);
});
afterAll(async () => {
  await demo?.close();
  await failing?.close();
  await pool.end();
});

describe('webhooks through the deployed stack', () => {
  it('delivers dataset.published, signed, to the declared subscriber after a drop', async () => {
    const marker = uniqueName('wh');
    const key = `irve-statique/${marker}.csv`;
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: irveExample.replace(/Picpus/g, `Picpus ${marker}`),
      }),
    );
    const file = await recordedFile(pool, key);
    expect(file.status).toBe('loaded');
    const published = await eventually(
      async () => {
        const mine = payloads(demo).filter(
          (r) => r.payload.type === 'dataset.published' && r.payload.data.runIds?.includes(file.run_id),
        );
        return mine.length >= 6 ? mine : undefined;
      },
      90_000,
      'dataset.published deliveries of the run',
    );
    expect(published.map((r) => r.payload.data.dataset).sort()).toEqual([
      'irve-statique',
      'irve_mises_en_service',
      'irve_par_departement',
      'irve_points',
      'irve_puissance_resume',
      'irve_tendance_recente',
    ]);
    for (const delivery of published) {
      expect(delivery.verified).toBe('ok');
      expect(delivery.id).toMatch(/^msg_/);
    }
    // Recorded once the subscriber's answer is back (the request arrives a moment before).
    const rows = await eventually(
      async () => {
        const { rows: found } = await pool.query<{ status: string; attempts: number }>(
          `SELECT d.status, d.attempts FROM ops.deliveries d WHERE d.id = ANY($1)`,
          [published.map((r) => r.id)],
        );
        return found.every((row) => row.status !== 'sending') ? found : undefined;
      },
      10_000,
      'the deliveries recorded',
    );
    expect(rows).toEqual(published.map(() => ({ status: 'succeeded', attempts: 1 })));
  });

  it('tells subscribers of a rejected file', async () => {
    const key = `irve-statique/${uniqueName('bad')}.csv`;
    await s3.send(
      new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: 'not;the;header\n1;2;3\n' }),
    );
    const file = await recordedFile(pool, key);
    expect(file.status).toBe('rejected');
    const rejected = await eventually(
      async () =>
        payloads(demo).find(
          (r) => r.payload.type === 'file.rejected' && r.payload.data.runId === file.run_id,
        ),
      60_000,
      'the file.rejected delivery',
    );
    expect(rejected.verified).toBe('ok');
    expect(rejected.payload.data).toMatchObject({ dataset: 'irve-statique' });
  });

  it('retries a failing subscriber on its schedule, parks it in the DLQ, and replays it once fixed', async () => {
    const created = await keyed('POST', '/subscriptions', {
      url: failing.url,
      events: ['dataset.published'],
      datasets: ['irve_par_departement'],
      retrySchedule: [0, 2, 2],
      description: 'e2e: a subscriber that fails, then recovers',
    });
    expect(created.status).toBe(201);
    const subscription = created.json<{ id: string; secret: string }>();
    expect(subscription.secret).toMatch(/^whsec_/);
    failing.secrets.push(subscription.secret);
    failing.answers.push({ status: 500 }, { status: 503 }, { status: 502 });

    const key = `irve-statique/${uniqueName('fail')}.csv`;
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: irveExample.replace(/Picpus/g, `Picpus ${uniqueName('f')}`),
      }),
    );
    await recordedFile(pool, key);

    const failed = await eventually(
      async () => {
        const answer = await keyed('GET', `/subscriptions/${subscription.id}/deliveries?status=failed`);
        const list = answer.json<{
          data: { id: string; attempts: number; log: { statusCode: number; outcome: string }[] }[];
        }>().data;
        return list.length > 0 ? list[0] : undefined;
      },
      120_000,
      'the delivery to fail three times',
    );
    expect(failed.attempts).toBe(3);
    expect(failed.log.map((a) => [a.statusCode, a.outcome])).toEqual([
      [500, 'retry'],
      [503, 'retry'],
      [502, 'failed'],
    ]);
    // Spaced by the schedule: 2 s, then 2 s (±10 %).
    const times = failing.received.map((r) => r.receivedAt.getTime());
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_700);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1_700);
    const dead = await eventually(
      async () => {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: outputs.DeliveriesDlqUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        return Messages?.find((m) => m.Body!.includes(failed.id));
      },
      20_000,
      'the delivery in the DLQ',
    );
    expect(dead).toBeDefined();

    // Fixed: the next answer is a 204. Replay every failed delivery of the subscription.
    const replay = await keyed('POST', `/subscriptions/${subscription.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.json<{ replayed: string[] }>().replayed).toEqual([failed.id]);
    const delivered = await eventually(
      async () => failing.received.find((r, index) => index >= 3 && r.answered === 204),
      30_000,
      'the replayed delivery',
    );
    expect(delivered).toMatchObject({ id: failed.id, verified: 'ok' });
    const status = await eventually(
      async () => {
        const after = await keyed('GET', `/subscriptions/${subscription.id}/deliveries`);
        const found = after
          .json<{ data: { id: string; status: string }[] }>()
          .data.find((d) => d.id === failed.id);
        return found && found.status !== 'sending' ? found.status : undefined;
      },
      10_000,
      'the replayed delivery recorded',
    );
    expect(status).toBe('succeeded');
    await keyed('DELETE', `/subscriptions/${subscription.id}`);
  });
});
