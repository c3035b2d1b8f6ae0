/**
 * Every function's handler, as Lambda calls it: an AWS-shaped event in (test/fixtures/events),
 * the effect out, in a database of its own and on LocalStack's S3, SQS and Secrets Manager.
 * The handlers are the very modules the stack bundles; their environment is what the stack
 * sets (see DatacycleFunction, QueueConsumer).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileProject, migrate, raiseAlert, signPush, type Project } from '@datacycle/core';
import { localSqs } from '../../localcloud/aws-clients';
import { awsLocalEnvironment } from '../../localcloud/settings';
import { busEnvelope, functionUrlEvent, lambdaContext, s3Notification, sqsEvent } from '../fixtures/events';
import { databaseUrl, localS3, objectExists, ownDatabase, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, irveExample, rawTable, testProject } from '../helpers/projects';

const root = path.resolve(import.meta.dirname, '../..');
const irveSchema = JSON.parse(
  readFileSync(path.join(root, 'examples/territoires/schemas/irve-statique.json'), 'utf8'),
) as unknown;
const run = uniqueName('fn');
const dataset = `${run}-irve`;
const pushed = `${run}-pushed`;
/** A database of its own, dropped at the end: subscriptions and alerts of an earlier run stay out. */
const databaseName = `datacycle_${run.replace('-', '_')}`;
/** The server's own database URL, read before the handlers' environment points elsewhere. */
const adminUrl = databaseUrl();
const s3 = localS3();
const sqs: SQSClient = localSqs();
let pool: pg.Pool;
let buckets: Awaited<ReturnType<typeof createTestBuckets>>;
const queues: Record<'dlq' | 'deliveries', string> = { dlq: '', deliveries: '' };

/** A receiver on loopback that keeps what it is sent (webhook subscriber, alert channel, source). */
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
/** The alert channel answers 503 (a cause that may pass: worth a retry) while set. */
let alertChannelDown = false;
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
    });
    if (request.url === '/alerts' && alertChannelDown) response.writeHead(503).end('maintenance');
    else if (request.url === '/source.csv')
      response.writeHead(200, { 'content-type': 'text/csv' }).end(irveExample);
    else response.writeHead(204).end();
  });
});
let receiverUrl = '';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;
/** A handler module, loaded after the environment is set (the runtime reads it once). */
async function handlerOf<E, R>(name: string): Promise<Handler<E, R>> {
  const module = (await import(`../../functions/${name}/handler.ts`)) as { handler: Handler<E, R> };
  return module.handler;
}
const invoke = async <E, R>(name: string, event: E) =>
  (await handlerOf<E, R>(name))(event, lambdaContext(name));

async function receiveAll(url: string): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

function project(): Project {
  const base = testProject([
    { id: dataset, schema: irveSchema, config: { exports: ['csv'] } },
    {
      id: pushed,
      schema: irveSchema,
      config: {
        sources: [
          { type: 'push', auth: 'hmac' },
          { type: 'http', url: `${receiverUrl}/source.csv`, schedule: 'rate(1 day)', filename: 'source.csv' },
        ],
      },
    },
  ]);
  base.config.name = run;
  base.config.alerts.channels = [{ type: 'webhook', url: `${receiverUrl}/alerts` }];
  base.config.webhooks.subscriptions = [
    { name: 'portal', url: `${receiverUrl}/hook`, events: ['dataset.published'], enabled: true },
  ];
  return base;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  pool = await ownDatabase(databaseName);
  await migrate(pool);
  buckets = await createTestBuckets(s3, run);
  for (const name of ['dlq', 'deliveries'] as const)
    queues[name] = (await sqs.send(new CreateQueueCommand({ QueueName: `${run}-${name}` }))).QueueUrl!;
  Object.assign(process.env, awsLocalEnvironment());
  const pushSecret = await new SecretsManagerClient({}).send(
    new CreateSecretCommand({ Name: `${run}/push`, SecretString: 'push-secret' }),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'datacycle-handlers-'));
  writeFileSync(path.join(dir, 'project.json'), compileProject(project()));
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  Object.assign(process.env, awsLocalEnvironment(), {
    LANDING_BUCKET: buckets.landing,
    RAW_BUCKET: buckets.raw,
    INTERNAL_BUCKET: buckets.internal,
    PUBLIC_BUCKET: buckets.public,
    DATABASE_URL: url.toString(),
    PROJECT_FILE: path.join(dir, 'project.json'),
    DEAD_LETTER_QUEUE_URL: queues.dlq,
    MAX_RECEIVE_COUNT: '3',
    QUEUE_URL: queues.deliveries,
    DELIVERIES_QUEUE_URL: queues.deliveries,
    API_URL: 'https://api.example.org/',
    API_KEY_SECRET_ARN: pushSecret.ARN!,
    PUSH_SECRETS: JSON.stringify({ [pushed]: pushSecret.ARN }),
    DEAD_LETTER_QUEUES: JSON.stringify({ ingest: queues.dlq }),
    LOG_LEVEL: 'warn',
  });
});

afterAll(async () => {
  for (const url of Object.values(queues)) if (url) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  await pool?.end();
  const { runtime } = await import('@datacycle/core');
  await (await runtime().pool()).end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`);
  await admin.end();
  await new Promise((resolve) => receiver.close(resolve));
});

let runId = '';

/** The alert the pipeline raises when a dataset's data tests fail. */
const testsFailed = (message: string) => ({
  kind: 'test-failed' as const,
  severity: 'error' as const,
  subject: dataset,
  title: 'data tests failed',
  message,
});

describe('queue consumers', () => {
  it('ingest: an S3 notification loads the file; a poison message beside it is parked in the DLQ', async () => {
    const key = `${dataset}/irve.csv`;
    await s3.send(new PutObjectCommand({ Bucket: buckets.landing, Key: key, Body: irveExample }));
    const response = await invoke<unknown, SQSBatchResponse>(
      'ingest',
      sqsEvent(s3Notification(buckets.landing, key), 'not json {'),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${rawTable(dataset)}`);
    expect(rows[0].n).toBe(2);
    const file = await pool.query<{ run_id: string }>(
      `SELECT run_id FROM ops.files WHERE dataset = $1 AND status = 'loaded'`,
      [dataset],
    );
    runId = file.rows[0]!.run_id;
    const parked = await receiveAll(queues.dlq);
    expect(parked.map((message) => message.Body)).toEqual(['not json {']);
    expect(parked[0]!.MessageAttributes?.['datacycle-error']?.StringValue).toMatch(/^not JSON/);
    expect(parked[0]!.MessageAttributes?.['datacycle-queue']?.StringValue).toBe('ingest');
  });

  it('transform: a dataset.loaded event runs a pass, recorded as a step of its run', async () => {
    const response = await invoke<unknown, SQSBatchResponse>(
      'transform',
      sqsEvent(busEnvelope('datacycle.dataset.loaded', { dataset, runId, rows: 2 })),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const { rows } = await pool.query(
      `SELECT status FROM ops.run_steps WHERE run_id = $1 AND step = 'transform'`,
      [runId],
    );
    // No model reads this dataset: the pass has nothing to rebuild, and says so in the run.
    expect(rows).toEqual([{ status: 'skipped' }]);
  });

  it('transform: a message of the wrong shape is parked with the reason, not retried', async () => {
    const response = await invoke<unknown, SQSBatchResponse>(
      'transform',
      sqsEvent(busEnvelope('datacycle.dataset.loaded', { dataset })),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const parked = await receiveAll(queues.dlq);
    expect(parked).toHaveLength(1);
    expect(parked[0]!.MessageAttributes?.['datacycle-error']?.StringValue).toMatch(
      /not a message of the transform queue[\s\S]*runId/,
    );
  });

  it('publish: a dataset.transformed event exports the dataset to the public bucket', async () => {
    const response = await invoke<unknown, SQSBatchResponse>(
      'publish',
      sqsEvent(
        busEnvelope('datacycle.dataset.transformed', {
          transformId: 'pass-1',
          datasets: [dataset],
          models: [],
          runIds: [runId],
        }),
      ),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await objectExists(s3, buckets.public, `exports/${dataset}/latest/${dataset}.csv`)).toBe(true);
  });

  it('webhook-fanout then webhook-delivery: an outputs.published event reaches the subscriber, signed', async () => {
    const event = busEnvelope('datacycle.outputs.published', {
      outputs: [dataset],
      version: '20261204T120000Z',
      runIds: [runId],
    });
    const fanned = await invoke<unknown, SQSBatchResponse>('webhook-fanout', sqsEvent(event));
    expect(fanned).toEqual({ batchItemFailures: [] });
    const { rows } = await pool.query<{ id: string; status: string }>(
      `SELECT id, status FROM ops.deliveries WHERE event_id = $1`,
      [`${event.id}:dataset.published:${dataset}`],
    );
    expect(rows).toHaveLength(1);
    const messages = await receiveAll(queues.deliveries);
    // The first attempts travel in bundles.
    expect(messages.map((message) => JSON.parse(message.Body!))).toEqual([
      { deliveries: [{ deliveryId: rows[0]!.id, attempt: 0 }] },
    ]);

    const delivered = await invoke<unknown, SQSBatchResponse>(
      'webhook-delivery',
      sqsEvent(...messages.map((message) => message.Body!)),
    );
    expect(delivered).toEqual({ batchItemFailures: [] });
    const hook = received.find((request) => request.path === '/hook');
    expect(JSON.parse(hook!.body)).toMatchObject({ type: 'dataset.published', data: { dataset } });
    const status = await pool.query(`SELECT status FROM ops.deliveries WHERE id = $1`, [rows[0]!.id]);
    expect(status.rows).toEqual([{ status: 'succeeded' }]);
    expect(hook!.headers['webhook-id']).toBe(rows[0]!.id);
    expect(hook!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('notify: an alert event goes to the alert channel and is marked sent', async () => {
    const alert = testsFailed('not_null(id_pdc_itinerance): 1 failing row');
    const { id } = await raiseAlert({ pool }, alert);
    const response = await invoke<unknown, SQSBatchResponse>(
      'notify',
      sqsEvent(busEnvelope('datacycle.alert', { ...alert, id })),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const sent = received.find((request) => request.path === '/alerts');
    expect(JSON.parse(sent!.body).text).toContain('data tests failed');
    const { rows } = await pool.query(
      `SELECT delivered_at IS NOT NULL AS sent FROM ops.alerts WHERE id = $1`,
      [id],
    );
    expect(rows).toEqual([{ sent: true }]);
  });
});

describe('a message that fails every delivery', () => {
  it('is retried by SQS, then parked on its last delivery with the error of it', async () => {
    const alert = testsFailed('unique(id_pdc_itinerance): 2 failing rows');
    const { id } = await raiseAlert({ pool }, alert);
    const delivery = (receiveCount: number) => {
      const event = sqsEvent(busEnvelope('datacycle.alert', { ...alert, id }));
      event.Records[0]!.attributes.ApproximateReceiveCount = String(receiveCount);
      return event;
    };
    alertChannelDown = true;
    try {
      for (const receiveCount of [1, 2]) {
        const event = delivery(receiveCount);
        const response = await invoke<unknown, SQSBatchResponse>('notify', event);
        // Not the last of its 3 deliveries: SQS hands it out again.
        expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
      }
      expect(await receiveAll(queues.dlq)).toEqual([]);
      const last = delivery(3);
      const response = await invoke<unknown, SQSBatchResponse>('notify', last);
      expect(response).toEqual({ batchItemFailures: [] });
      const parked = await receiveAll(queues.dlq);
      expect(parked.map((message) => message.Body)).toEqual([last.Records[0]!.body]);
      expect(parked[0]!.MessageAttributes?.['datacycle-error']?.StringValue).toBe(
        'failed on each of its 3 deliveries, the last with: the alert webhook answered HTTP 503 ' +
          '(fix the cause, then replay it: datacycle redrive)',
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queues.dlq, ReceiptHandle: parked[0]!.ReceiptHandle }),
      );
    } finally {
      alertChannelDown = false;
    }
  });
});

describe('poison messages, on every queue', () => {
  const consumers = ['ingest', 'transform', 'publish', 'webhook-fanout', 'webhook-delivery', 'notify'];
  it.each(consumers)(
    '%s: each poison message alone to the DLQ, with why; the batch succeeds',
    async (name) => {
      const poison = ['not json {', JSON.stringify({ 'detail-type': 'nope', detail: 42 })];
      const response = await invoke<unknown, SQSBatchResponse>(name, sqsEvent(...poison));
      // Nothing for SQS to redeliver: a poison message would fail every time.
      expect(response).toEqual({ batchItemFailures: [] });
      const parked = await receiveAll(queues.dlq);
      expect(parked.map((message) => message.Body).sort()).toEqual([...poison].sort());
      for (const message of parked) {
        expect(message.MessageAttributes?.['datacycle-error']?.StringValue).toMatch(/\S/);
        expect(message.MessageAttributes?.['datacycle-queue']?.StringValue).toMatch(/\S/);
      }
    },
  );
});

describe('a message naming what the deployed project does not declare', () => {
  const stranger = `${run}-removed`;
  it.each([
    [
      'transform',
      busEnvelope('datacycle.dataset.loaded', { dataset: stranger, runId: 'run-elsewhere', rows: 1 }),
    ],
    [
      'publish',
      busEnvelope('datacycle.dataset.transformed', {
        transformId: 'pass-elsewhere',
        datasets: [dataset, stranger],
        models: [],
        runIds: ['run-elsewhere'],
      }),
    ],
    [
      'webhook-fanout',
      busEnvelope('datacycle.outputs.published', {
        outputs: [stranger],
        version: '20261205T080000Z',
        runIds: ['run-elsewhere'],
      }),
    ],
  ])('%s: parked in the DLQ naming it, beside a poison message of the same batch', async (name, message) => {
    const response = await invoke<unknown, SQSBatchResponse>(name, sqsEvent(message, 'not json {'));
    expect(response).toEqual({ batchItemFailures: [] });
    const parked = await receiveAll(queues.dlq);
    const reasons = parked.map((message) => message.MessageAttributes?.['datacycle-error']?.StringValue);
    expect(reasons.sort()).toEqual([
      `${stranger}: not a dataset${name === 'transform' ? '' : ' or model'} of the deployed project (deploy the project that declares it, then replay the message: datacycle redrive)`,
      'not JSON: not json {',
    ]);
  });
});

describe('other triggers', () => {
  const landed = async (prefix: string) =>
    (await s3.send(new ListObjectsV2Command({ Bucket: buckets.landing, Prefix: prefix }))).Contents ?? [];

  it('collect: the schedule target fetches the source into the landing bucket', async () => {
    const outcome = await invoke<unknown, { status: string }>('collect', { dataset: pushed, source: 1 });
    expect(outcome.status).toBe('collected');
    expect((await landed(`${pushed}/`)).some((object) => object.Key!.endsWith('source.csv'))).toBe(true);
  });

  it('push: a signed POST drops the file in landing; a wrong signature is refused', async () => {
    const body = Buffer.from(irveExample);
    const timestamp = Math.floor(Date.now() / 1000);
    const request = (signature: string) =>
      functionUrlEvent({
        method: 'POST',
        path: `/${pushed}/pushed.csv`,
        headers: { 'x-datacycle-timestamp': String(timestamp), 'x-datacycle-signature': signature },
        body,
      });
    const accepted = await invoke<unknown, { statusCode: number; body: string }>(
      'push',
      request(signPush('push-secret', timestamp, body)),
    );
    expect(accepted.statusCode).toBe(202);
    expect(await objectExists(s3, buckets.landing, JSON.parse(accepted.body).key)).toBe(true);
    const refused = await invoke<unknown, { statusCode: number }>('push', request('v1=00'));
    expect(refused.statusCode).toBe(401);
  });

  it('api: GET /datasets/{id}/rows answers the loaded rows', async () => {
    const answer = await invoke<unknown, { statusCode: number; body: string }>(
      'api',
      functionUrlEvent({ method: 'GET', path: `/datasets/${dataset}/rows`, query: 'limit=1' }),
    );
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body).data).toHaveLength(1);
  });

  it('monitor: a dead-letter queue holding messages raises a dead-letter alert saying why', async () => {
    await invoke<unknown, SQSBatchResponse>('ingest', sqsEvent('still not json'));
    const summary = await invoke<unknown, { deadLetters: string[] }>('monitor', {});
    expect(summary.deadLetters).toEqual(['ingest']);
    // The alert says why the messages are there, from the reason each was parked with.
    const { rows } = await pool.query<{ message: string }>(
      `SELECT message FROM ops.alerts WHERE kind = 'dead-letter' AND subject = 'ingest'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.message).toMatch(/^messages are waiting in the ingest DLQ: not JSON: /);
  });

  it('backup: the schemas are written under backups/ with a manifest', async () => {
    const summary = await invoke<unknown, { prefix: string; tables: number }>('backup', {});
    expect(summary.tables).toBeGreaterThan(0);
    expect(await objectExists(s3, buckets.internal, `${summary.prefix}manifest.json`)).toBe(true);
  });
});
