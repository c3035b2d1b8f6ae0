/**
 * Webhook deliveries against a real subscriber on loopback that verifies signatures as the
 * Standard Webhooks specification says, with the deliveries queue and the secrets in
 * LocalStack (SQS, Secrets Manager) and the state in PostgreSQL: fan-out, duplicates, retries
 * on schedule, Retry-After, 410, redirects, timeouts, the DLQ, replay, secret rotation, SSRF.
 */
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  PurgeQueueCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSubscription,
  deleteSubscription,
  deliveryMessageSchema,
  fanOut,
  generateSecret,
  handleDeliveryMessage,
  migrate,
  replayDeliveries,
  rotateSigningSecret,
  SubscriptionError,
  syncProjectSubscriptions,
  webhookEventsOf,
  type DeliveryContext,
  type DeliveryMessage,
  type SecretStore,
} from '@datacycle/core';
import { localClientConfig, localSqs } from '../../localcloud/aws-clients';
import {
  receiveWebhooks,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../localcloud/webhook-receiver';
import { verifyWithPythonStandardWebhooks } from '../helpers/conformance';
import { ownDatabase, uniqueName } from '../helpers/local-cloud';
import { testProject } from '../helpers/projects';

let pool: Awaited<ReturnType<typeof ownDatabase>>;
const sqs = localSqs();
const secrets: SecretStore = {
  client: new SecretsManagerClient(localClientConfig()),
  prefix: `datacycle/itest/${uniqueName('wh')}/`,
};
const project = testProject([
  { id: 'stations', schema: { fields: [{ name: 'id', type: 'string' }] } },
  { id: 'communes', schema: { fields: [{ name: 'id', type: 'string' }] } },
]);
let queueUrl: string;
let dlqUrl: string;
let receiver: WebhookReceiver;
/** The subscriptions this file made (the database is shared with the deployed stack's). */
const mine: string[] = [];

const context = (): DeliveryContext & {
  queue: { sqs: typeof sqs; url: string };
  deadLetterQueueUrl: string;
} => ({
  pool,
  secrets,
  network: { allow: ['127.0.0.1/32'] },
  retrySchedule: [0, 1, 1],
  disableAfterHours: 72,
  timeoutMs: 1_000,
  queue: { sqs, url: queueUrl },
  deadLetterQueueUrl: dlqUrl,
});

const busEvent = (outputs: string[]) => ({
  id: uniqueName('evt'),
  time: new Date().toISOString(),
  'detail-type': 'datacycle.outputs.published' as const,
  detail: { outputs, version: '20261128T120000Z', runIds: ['3f1e…'] },
});
const links = { apiUrl: 'https://api.example.org/', publicUrl: 'https://data.example.org' };

/** A received delivery as the Python verifier takes it. */
const deliveryFor = (secret: string, received: ReceivedWebhook) => ({
  secret,
  body: received.body,
  headers: {
    'webhook-id': received.id,
    'webhook-timestamp': received.timestamp,
    'webhook-signature': received.signature,
  },
});

/** Runs the deliver function's loop on the test queue until it is empty for `idleMs`. */
async function drain(
  queue: string,
  idleMs = 2_500,
  network = { allow: ['127.0.0.1/32'] },
  timeoutMs = 1_000,
): Promise<string[]> {
  const outcomes: string[] = [];
  let idleSince = Date.now();
  while (Date.now() - idleSince < idleMs) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      const parsed: DeliveryMessage = deliveryMessageSchema.parse(JSON.parse(message.Body!));
      outcomes.push(
        ...(await handleDeliveryMessage({ ...context(), network, timeoutMs }, parsed)).map((one) => one.kind),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue, ReceiptHandle: message.ReceiptHandle! }));
    }
    // Idle from the end of the last handling: a bundle that took longer than idleMs to send
    // (110 deliveries on a busy machine) must not end the wait for the retries it enqueued.
    if (Messages.length > 0) idleSince = Date.now();
  }
  return outcomes;
}

async function subscribe(overrides: Partial<Parameters<typeof createSubscription>[1]> = {}) {
  const created = await createSubscription(
    { pool, secrets, project },
    { url: receiver.url, events: ['dataset.published'], enabled: true, ...overrides },
  );
  receiver.secrets.splice(0, receiver.secrets.length, created.secret);
  mine.push(created.subscription.id);
  return created;
}

const deliveryRows = async (subscriptionId: string) =>
  (
    await pool.query<{ id: string; status: string; attempts: number; last_status_code: number | null }>(
      'SELECT id, status, attempts, last_status_code FROM ops.deliveries WHERE subscription_id = $1 ORDER BY created_at',
      [subscriptionId],
    )
  ).rows;

beforeAll(async () => {
  // Its own database: the deployed stack's subscriptions must not receive this file's events.
  pool = await ownDatabase('datacycle_it_webhooks');
  await migrate(pool);
  const name = uniqueName('deliveries');
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
});
afterEach(async () => {
  await receiver?.close();
  // Nothing of one test may reach the next one's subscriber.
  await pool.query('UPDATE ops.subscriptions SET enabled = false WHERE id = ANY($1)', [mine]);
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
});
afterAll(async () => {
  for (const id of mine) await deleteSubscription({ pool, secrets, project }, id);
  await pool.end();
});

describe('webhook deliveries', () => {
  it('signs each delivery so that the subscriber verifies it, once per subscription', async () => {
    receiver = await receiveWebhooks();
    const { subscription } = await subscribe();
    const event = busEvent(['stations']);
    const enqueued = await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(event, links));
    // The same bus event again (EventBridge delivers at least once): nothing new.
    expect(await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(event, links))).toEqual(
      enqueued,
    );

    expect(await drain(queueUrl)).toEqual(['succeeded', 'skipped']);
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    // Verified by the specification's reference libraries: JavaScript (the receiver) and Python.
    expect(delivery!.verified).toBe('ok');
    expect(await verifyWithPythonStandardWebhooks([deliveryFor(receiver.secrets[0]!, delivery!)])).toEqual([
      'ok',
    ]);
    expect(delivery!.id).toBe(enqueued[0]);
    expect(delivery!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(delivery!.body)).toEqual({
      type: 'dataset.published',
      timestamp: event.time,
      version: 1,
      data: {
        dataset: 'stations',
        version: '20261128T120000Z',
        runIds: ['3f1e…'],
        links: {
          dataset: 'https://api.example.org/datasets/stations',
          rows: 'https://api.example.org/datasets/stations/rows',
          datapackage: 'https://data.example.org/exports/stations/latest/datapackage.json',
          csv: 'https://data.example.org/exports/stations/latest/stations.csv',
          portal: 'https://data.example.org/portal/datasets/stations.html',
        },
      },
    });
    expect(await deliveryRows(subscription.id)).toEqual([
      { id: enqueued[0], status: 'succeeded', attempts: 1, last_status_code: 204 },
    ]);
  });

  it('sends a fan-out to many subscribers in bundles; a failing one keeps its own retries', async () => {
    receiver = await receiveWebhooks();
    const failing = await receiveWebhooks();
    failing.answers.push({ status: 500 });
    try {
      for (let i = 0; i < 110; i++) {
        const created = await createSubscription(
          { pool, secrets, project },
          { url: `${receiver.url}/${i}`, events: ['dataset.published'], enabled: true },
        );
        receiver.secrets.push(created.secret);
        mine.push(created.subscription.id);
      }
      const bad = await createSubscription(
        { pool, secrets, project },
        { url: failing.url, events: ['dataset.published'], enabled: true },
      );
      failing.secrets.push(bad.secret);
      mine.push(bad.subscription.id);

      const enqueued = await fanOut(
        { pool, queue: { sqs, url: queueUrl } },
        webhookEventsOf(busEvent(['stations']), links),
      );
      expect(enqueued).toHaveLength(111);
      // Two messages: a bundle of 100 first attempts and one of 11.
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(Attributes?.ApproximateNumberOfMessages).toBe('2');

      // 110 requests at once to one local receiver that verifies each signature: on a busy
      // machine some take over the 1 s the other tests allow (CI once saw two time out).
      const outcomes = await drain(queueUrl, 4_000, undefined, 10_000);
      expect(outcomes.filter((outcome) => outcome === 'retry')).toHaveLength(1);
      // 110 at the first attempt, the failing one at its second.
      expect(outcomes.filter((outcome) => outcome === 'succeeded')).toHaveLength(111);
      expect(receiver.received).toHaveLength(110);
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(110);
      expect(receiver.received.every((r) => r.verified === 'ok')).toBe(true);
      expect(failing.received.map((r) => r.answered)).toEqual([500, 204]);
      const { rows } = await pool.query<{ status: string; attempts: number; n: number }>(
        `SELECT status, attempts, count(*)::int AS n FROM ops.deliveries WHERE id = ANY ($1)
         GROUP BY status, attempts ORDER BY attempts`,
        [enqueued],
      );
      expect(rows).toEqual([
        { status: 'succeeded', attempts: 1, n: 110 },
        { status: 'succeeded', attempts: 2, n: 1 },
      ]);
    } finally {
      await failing.close();
    }
  });

  it('delivers only the event types and datasets a subscription asked for', async () => {
    receiver = await receiveWebhooks();
    const { subscription } = await subscribe({ datasets: ['communes'] });
    await fanOut(
      { pool, queue: { sqs, url: queueUrl } },
      webhookEventsOf(busEvent(['stations', 'communes']), links),
    );
    await drain(queueUrl);
    expect(
      receiver.received.map((r) => (JSON.parse(r.body) as { data: { dataset: string } }).data.dataset),
    ).toEqual(['communes']);
    expect(await deliveryRows(subscription.id)).toHaveLength(1);
  });

  it('retries on its schedule, honours Retry-After, then succeeds with the same webhook-id', async () => {
    receiver = await receiveWebhooks();
    receiver.answers.push({ status: 500 }, { status: 429, headers: { 'retry-after': '2' } });
    const { subscription } = await subscribe();
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    const outcomes = await drain(queueUrl, 4_000);

    expect(outcomes.filter((o) => o !== 'waiting')).toEqual(['retry', 'retry', 'succeeded']);
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 429, 204]);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    // Retry-After: 2 s asked, more than the schedule's 1 s.
    const gap = receiver.received[2]!.receivedAt.getTime() - receiver.received[1]!.receivedAt.getTime();
    expect(gap).toBeGreaterThanOrEqual(1_900);
    const { rows: attempts } = await pool.query(
      `SELECT a.attempt, a.status_code, a.outcome FROM ops.delivery_attempts a JOIN ops.deliveries d ON d.id = a.delivery_id
       WHERE d.subscription_id = $1 ORDER BY a.id`,
      [subscription.id],
    );
    expect(attempts).toEqual([
      { attempt: 1, status_code: 500, outcome: 'retry' },
      { attempt: 2, status_code: 429, outcome: 'retry' },
      { attempt: 3, status_code: 204, outcome: 'succeeded' },
    ]);
  });

  it('counts a redirect and a silent endpoint as failures, ends in the DLQ, and replays', async () => {
    receiver = await receiveWebhooks();
    receiver.answers.push({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }, 'hang', {
      status: 503,
    });
    const { subscription } = await subscribe();
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    await drain(queueUrl, 6_000);

    const [delivery] = await deliveryRows(subscription.id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, last_status_code: 503 });
    const { rows: errors } = await pool.query<{ error: string }>(
      'SELECT error FROM ops.delivery_attempts WHERE delivery_id = $1 ORDER BY id',
      [delivery!.id],
    );
    expect(errors.map((e) => e.error)).toEqual([
      'redirect 302 to http://127.0.0.1:1/elsewhere (redirects are not followed)',
      'no answer within 1 s',
      'HTTP 503',
    ]);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(dead.Messages?.map((m) => (JSON.parse(m.Body!) as { deliveryId: string }).deliveryId)).toContain(
      delivery!.id,
    );

    // The endpoint is fixed: replay every failed delivery of the subscription.
    const replayed = await replayDeliveries(pool, { subscriptionId: subscription.id });
    expect(replayed).toEqual([delivery!.id]);
    await import('@datacycle/core').then(({ enqueueDeliveries }) =>
      enqueueDeliveries(
        { sqs, url: queueUrl },
        replayed.map((deliveryId) => ({ deliveryId, attempt: 0 })),
      ),
    );
    await drain(queueUrl);
    expect(receiver.received.at(-1)).toMatchObject({ id: delivery!.id, verified: 'ok', answered: 204 });
    expect((await deliveryRows(subscription.id))[0]!.status).toBe('succeeded');
  });

  it('disables a subscription whose endpoint answers 410 Gone, and alerts', async () => {
    receiver = await receiveWebhooks();
    receiver.answers.push({ status: 410 });
    const { subscription } = await subscribe({ owner: 'owner@example.org' });
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    expect(await drain(queueUrl)).toEqual(['gone']);
    const { rows } = await pool.query(
      'SELECT enabled, disabled_reason FROM ops.subscriptions WHERE id = $1',
      [subscription.id],
    );
    expect(rows).toEqual([{ enabled: false, disabled_reason: 'the endpoint answered 410 Gone' }]);
    const { rows: alerts } = await pool.query(
      "SELECT kind, details->>'owner' AS owner FROM ops.alerts WHERE subject = $1",
      [subscription.id],
    );
    expect(alerts).toEqual([{ kind: 'subscription-disabled', owner: 'owner@example.org' }]);
    // No more deliveries to it.
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    expect(await deliveryRows(subscription.id)).toHaveLength(1);
  });

  it('disables an endpoint failing for longer than the limit', async () => {
    receiver = await receiveWebhooks();
    receiver.answers.push({ status: 500 });
    const { subscription } = await subscribe();
    await pool.query(
      `UPDATE ops.subscriptions SET failing_since = now() - interval '73 hours' WHERE id = $1`,
      [subscription.id],
    );
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    await drain(queueUrl, 1_500);
    const { rows } = await pool.query<{ enabled: boolean; disabled_reason: string }>(
      'SELECT enabled, disabled_reason FROM ops.subscriptions WHERE id = $1',
      [subscription.id],
    );
    expect(rows[0]!.enabled).toBe(false);
    expect(rows[0]!.disabled_reason).toMatch(/^deliveries failing for 73 h \(last: HTTP 500\)$/);
  });

  it('signs with both secrets while a rotated one overlaps its successor', async () => {
    receiver = await receiveWebhooks();
    const { subscription, secret: old } = await subscribe();
    const { secret: fresh } = await rotateSigningSecret(secrets, subscription.id, 24);
    for (const only of [[old], [fresh]]) {
      receiver.secrets.splice(0, receiver.secrets.length, ...only);
      await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
      await drain(queueUrl, 1_500);
      expect(receiver.received.at(-1)!.verified).toBe('ok');
    }
    expect(receiver.received.at(-1)!.signature.split(' ')).toHaveLength(2);
    // Python's reference library accepts the overlapping deliveries with either secret, and
    // refuses them with a secret that is neither.
    const last = receiver.received.at(-1)!;
    expect(
      await verifyWithPythonStandardWebhooks([
        deliveryFor(old, last),
        deliveryFor(fresh, last),
        deliveryFor(generateSecret(), last),
      ]),
    ).toEqual(['ok', 'ok', expect.stringMatching(/^WebhookVerificationError/)]);
  });

  it('refuses private endpoints, at subscription and at delivery time', async () => {
    await expect(
      createSubscription(
        { pool, secrets, project },
        { url: 'http://169.254.169.254/latest/meta-data/', events: ['run.failed'], enabled: true },
      ),
    ).rejects.toThrow(SubscriptionError);
    // Plain http only to an address the allow-list names: payloads and signatures go over https.
    await expect(
      createSubscription(
        { pool, secrets, project },
        { url: 'http://hooks.example.org/in', events: ['run.failed'], enabled: true },
      ),
    ).rejects.toThrow(
      /webhooks are delivered over https .* plain http only to an IP address the project's network.allow names/,
    );
    receiver = await receiveWebhooks();
    // By name, with nothing private allowed: resolved at connect time, and refused.
    const { subscription } = await subscribe({
      url: receiver.url.replace('http://127.0.0.1', 'https://localhost'),
    });
    await fanOut({ pool, queue: { sqs, url: queueUrl } }, webhookEventsOf(busEvent(['stations']), links));
    await drain(queueUrl, 3_000, { allow: [] });
    const { rows } = await pool.query<{ error: string }>(
      `SELECT a.error FROM ops.delivery_attempts a JOIN ops.deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
      [subscription.id],
    );
    expect(rows[0]!.error).toMatch(/localhost resolves to .* loopback address: refused/);
    expect(receiver.received).toHaveLength(0);
  });

  it('keeps the subscriptions of datacycle.yaml in step with it', async () => {
    const declared = (url: string) => ({
      ...project,
      config: {
        ...project.config,
        webhooks: {
          ...project.config.webhooks,
          subscriptions: [
            { name: uniqueName('decl').slice(0, 20), url, events: ['run.failed' as const], enabled: true },
          ],
        },
      },
    });
    const first = declared('https://hooks.example.org/a');
    const { created } = await syncProjectSubscriptions({ pool, secrets, project: first });
    expect(created).toHaveLength(1);
    mine.push(...created);
    expect((await syncProjectSubscriptions({ pool, secrets, project: first })).created).toEqual([]);
    const moved = {
      ...first,
      config: {
        ...first.config,
        webhooks: {
          ...first.config.webhooks,
          subscriptions: [{ ...first.config.webhooks.subscriptions[0]!, url: 'https://hooks.example.org/b' }],
        },
      },
    };
    await syncProjectSubscriptions({ pool, secrets, project: moved });
    const { rows } = await pool.query('SELECT url, origin FROM ops.subscriptions WHERE id = $1', [
      created[0],
    ]);
    expect(rows).toEqual([{ url: 'https://hooks.example.org/b', origin: 'project' }]);
  });
});
