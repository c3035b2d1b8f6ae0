/**
 * Fault: poison messages on every queue of the deployed stack, while a real file goes through
 * the pipeline. Each queue receives, in one SendMessageBatch, messages that can never be handled
 * (not JSON; the wrong shape; a dataset the project does not declare, where a message names
 * one) beside good ones on the ingest and alerts queues. Promised: each poison message alone
 * in its queue's DLQ, with why; the good messages handled once (the file loaded, transformed
 * and published; the alert delivered); the monitor alerts on each DLQ naming the reason; an
 * alert its channel refused (a cause an operator can fix) waits in the alerts DLQ, and
 * `datacycle redrive alerts` delivers it once the channel is fixed.
 * Figures: .local/faults/poison-messages.json.
 */
import { createServer, type Server } from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '@datacycle/core';
import { main } from '../../cli/main';
import { alertReceiverPort } from '../../localcloud/alert-receiver';
import { localSqs } from '../../localcloud/aws-clients';
import { busEnvelope, s3Notification } from '../fixtures/events';
import {
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { irveExample } from '../helpers/projects';
import { queueDepth, runMonitor } from '../helpers/stack-probes';
import { recordFigures } from './figures';
import { passesOver } from './pipeline';

const outputs = readStackOutputs();
const pool = testPool();
const sqs = localSqs();

const queues = {
  ingest: { url: outputs.IngestQueueUrl, dlq: outputs.IngestDlqUrl },
  transform: { url: outputs.TransformQueueUrl, dlq: outputs.TransformDlqUrl },
  publish: { url: outputs.PublishQueueUrl, dlq: outputs.PublishDlqUrl },
  webhooks: { url: outputs.WebhookEventsQueueUrl, dlq: outputs.WebhookEventsDlqUrl },
  deliveries: { url: outputs.DeliveriesQueueUrl, dlq: outputs.DeliveriesDlqUrl },
  alerts: { url: outputs.AlertsQueueUrl, dlq: outputs.AlertsDlqUrl },
};
type QueueName = keyof typeof queues;

const stranger = uniqueName('removed-dataset');
const notJson = (queue: string) => `{ "not": "json" from ${queue}`;
const wrongShape = (queue: string) => JSON.stringify({ 'detail-type': 'nope', detail: 42, queue });
/** Well-formed messages that name a dataset the deployed project does not declare. */
const unknownDataset: Partial<Record<QueueName, unknown>> = {
  transform: busEnvelope('datacycle.dataset.loaded', { dataset: stranger, runId: 'run-elsewhere', rows: 1 }),
  publish: busEnvelope('datacycle.dataset.transformed', {
    transformId: 'pass-elsewhere',
    datasets: [stranger],
    models: [],
    runIds: ['run-elsewhere'],
  }),
  webhooks: busEnvelope('datacycle.outputs.published', {
    outputs: [stranger],
    version: '20261205T080000Z',
    runIds: ['run-elsewhere'],
  }),
};
/**
 * A body as the test compares it: LocalStack's event source mapping hands JSON bodies to the
 * function re-serialized (spaces after separators), which the function parks as it got them.
 */
const sameBody = (body: string | undefined): string => {
  try {
    return JSON.stringify(JSON.parse(body ?? ''));
  } catch {
    return body ?? '';
  }
};
const poisonOf = (queue: QueueName): string[] => [
  notJson(queue),
  wrongShape(queue),
  ...(unknownDataset[queue] ? [JSON.stringify(unknownDataset[queue])] : []),
];

/** The example's alert channel (alerts.channels): refuses alerts (HTTP 403) until fixed. */
class AlertChannel {
  refusing = true;
  readonly received: string[] = [];
  refused = 0;
  private server?: Server;
  start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (this.refusing) {
          this.refused++;
          response.writeHead(403).end('token expired');
          return;
        }
        this.received.push((JSON.parse(Buffer.concat(chunks).toString()) as { text: string }).text);
        response.writeHead(200).end('ok');
      });
    });
    return new Promise((resolve) => this.server!.listen(alertReceiverPort, '127.0.0.1', resolve));
  }
  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
const channel = new AlertChannel();

/** Every message waiting in a queue, taken (received and deleted). */
async function takeAll(url: string): Promise<Message[]> {
  const taken: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages?.length) return taken;
    for (const message of Messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    taken.push(...Messages);
  }
}

const depthOf = (url: string) => queueDepth(url, { inFlight: true });

beforeAll(async () => {
  for (const queue of Object.values(queues)) await takeAll(queue.dlq);
  await runMonitor(); // it sees every DLQ empty: what follows is new to it
  await channel.start();
});
afterAll(async () => {
  await channel.close();
  // Leave the DLQs as found (empty), for the scenarios that follow.
  for (const queue of Object.values(queues)) await takeAll(queue.dlq);
  await runMonitor();
  await pool.end();
});

describe('poison messages on every queue of the deployed stack', () => {
  it('parks each alone with why, handles its batch, alerts, and redrives after a fix', async () => {
    const marker = uniqueName('poison');
    const { rows: clock } = await pool.query<{ now: Date }>('SELECT now()');
    const started = clock[0]!.now;
    const key = `irve-statique/${marker}.csv`;
    await localS3().send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: irveExample.replace(/Picpus/g, `Picpus ${marker}`),
      }),
    );
    // A good alert, recorded as the pipeline records one, sent in the same batch as poison.
    const { id: alertId } = await raiseAlert(
      { pool },
      {
        kind: 'test-failed',
        severity: 'error',
        subject: 'irve-statique',
        title: `data tests failed (${marker})`,
        message: 'not_null(id_pdc_itinerance): 1 failing row',
      },
    );
    const good: Partial<Record<QueueName, string>> = {
      ingest: JSON.stringify(s3Notification(outputs.LandingBucket, key)),
      alerts: JSON.stringify(
        busEnvelope('datacycle.alert', {
          id: alertId,
          kind: 'test-failed',
          severity: 'error',
          subject: 'irve-statique',
          title: `data tests failed (${marker})`,
          message: 'not_null(id_pdc_itinerance): 1 failing row',
        }),
      ),
    };
    const sent: Record<string, number> = {};
    for (const [name, queue] of Object.entries(queues) as [QueueName, { url: string }][]) {
      const bodies = [...(good[name] ? [good[name]] : []), ...poisonOf(name)];
      const { Failed } = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: bodies.map((body, index) => ({ Id: `m${index}`, MessageBody: body })),
        }),
      );
      expect(Failed ?? []).toEqual([]);
      sent[name] = bodies.length;
    }

    // The good messages: the file loaded once, its passes over; the alert refused by the channel.
    const loaded = await recordedFile(pool, key);
    expect(loaded.status).toBe('loaded');
    await passesOver(pool, loaded.run_id);
    // Its transform pass ran once (whatever the models made of it: not this scenario's concern).
    const { rows: steps } = await pool.query<{ step: string; finished: boolean }>(
      `SELECT step, finished_at IS NOT NULL AS finished FROM ops.run_steps
       WHERE run_id = $1 AND step IN ('ingest', 'transform') ORDER BY step`,
      [loaded.run_id],
    );
    expect(steps).toEqual([
      { step: 'ingest', finished: true },
      { step: 'transform', finished: true },
    ]);
    const { rows: loads } = await pool.query<{ loads: number }>(
      `SELECT count(*)::int AS loads FROM ops.files WHERE source_key = $1 AND status = 'loaded'`,
      [key],
    );
    expect(loads).toEqual([{ loads: 1 }]);

    // Each poison message in its queue's DLQ, with why; nothing else there but the refused alert.
    const parked: Record<string, Message[]> = {};
    for (const [name, queue] of Object.entries(queues) as [QueueName, { dlq: string }][]) {
      const expected = poisonOf(name).length + (name === 'alerts' ? 1 : 0);
      await eventually(
        async () => ((await depthOf(queue.dlq)) >= expected ? true : undefined),
        120_000,
        `${expected} message(s) in the ${name} DLQ`,
      );
    }
    const monitored = await runMonitor();
    // Its dead-letter alerts go to the same channel, which refuses them too: wait until parked.
    const alertsParked = poisonOf('alerts').length + 1 + Object.keys(monitored.depths).length;
    await eventually(
      async () => ((await depthOf(queues.alerts.dlq)) >= alertsParked ? true : undefined),
      120_000,
      `${alertsParked} message(s) in the alerts DLQ`,
    );
    for (const [name, queue] of Object.entries(queues) as [QueueName, { dlq: string }][]) {
      parked[name] = await takeAll(queue.dlq);
      const reasons = Object.fromEntries(
        parked[name].map((message) => [
          sameBody(message.Body),
          message.MessageAttributes?.['datacycle-error']?.StringValue ?? '',
        ]),
      );
      expect(reasons[notJson(name)]).toMatch(/^not JSON: /);
      expect(reasons[wrongShape(name)]).toMatch(/^not a message of the \w+ queue: /);
      if (unknownDataset[name])
        expect(reasons[JSON.stringify(unknownDataset[name])]).toBe(
          `${stranger}: not a dataset${name === 'transform' ? '' : ' or model'} of the deployed project ` +
            '(deploy the project that declares it, then replay the message: datacycle redrive)',
        );
      const others = parked[name].filter((message) => !poisonOf(name).includes(sameBody(message.Body)));
      if (name === 'alerts') {
        // The good alert and the monitor's (and any the pipeline raised meanwhile), refused by
        // their channel: parked with what to do.
        expect(others.length).toBeGreaterThanOrEqual(1 + Object.keys(monitored.depths).length);
        expect(others.map((message) => sameBody(message.Body))).toContain(good.alerts);
        // An alert an earlier scenario raised while no channel listened may run out of attempts
        // meanwhile (parked by the redrive policy, so without a reason): not this scenario's.
        const alertIdOf = (message: Message) =>
          (JSON.parse(message.Body ?? '{}') as { detail?: { id?: string } }).detail?.id ?? '';
        const { rows: raisedHere } = await pool.query<{ id: string }>(
          'SELECT id FROM ops.alerts WHERE id = ANY ($1) AND raised_at >= $2',
          [others.map(alertIdOf).filter((id) => id !== ''), started],
        );
        const ours = others.filter((message) => raisedHere.some((row) => row.id === alertIdOf(message)));
        expect(ours.length).toBeGreaterThanOrEqual(1 + Object.keys(monitored.depths).length);
        for (const message of ours)
          expect(message.MessageAttributes?.['datacycle-error']?.StringValue).toMatch(
            /^the alert webhook 127\.0\.0\.1:\d+ refused the alert \(HTTP 403\) \(check the webhook URL/,
          );
      } else if (name === 'deliveries') {
        // A real delivery that ran out of attempts meanwhile (a subscriber of an earlier
        // scenario that is gone) is parked there too, as it should: not a poison message.
        const { rows: failed } = await pool.query<{ id: string }>(
          "SELECT id FROM ops.deliveries WHERE status = 'failed' AND id = ANY ($1)",
          [others.map((message) => (JSON.parse(message.Body ?? '{}') as { deliveryId?: string }).deliveryId)],
        );
        expect(others.map((message) => message.Body)).toHaveLength(failed.length);
      } else expect(others.map((message) => message.Body)).toEqual([]);
    }

    // The monitor alerted on each DLQ but the alerts one (whose channel is what failed), with
    // why. (Read in ops.alerts: an invocation the client retried may have been the one that saw
    // the growth.)
    const { rows: deadLetterAlerts } = await pool.query<{ subject: string; message: string }>(
      `SELECT subject, message FROM ops.alerts WHERE kind = 'dead-letter' AND raised_at >= $1 ORDER BY subject`,
      [started],
    );
    expect(deadLetterAlerts.map((row) => row.subject)).toEqual([
      'deliveries',
      'ingest',
      'publish',
      'transform',
      'webhooks',
    ]);
    for (const alert of deadLetterAlerts)
      expect(alert.message).toMatch(
        new RegExp(`^messages are waiting in the ${alert.subject} DLQ: .*not JSON: `),
      );
    const { rows: undelivered } = await pool.query<{ delivered: boolean }>(
      'SELECT delivered_at IS NOT NULL AS delivered FROM ops.alerts WHERE id = $1',
      [alertId],
    );
    expect(undelivered).toEqual([{ delivered: false }]);

    // Everything the alerts DLQ held goes back to it, for `datacycle redrive` to find.
    for (let start = 0; start < parked.alerts!.length; start += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.alerts.dlq,
          Entries: parked.alerts!.slice(start, start + 10).map((message, index) => ({
            Id: `r${start + index}`,
            MessageBody: message.Body!,
            MessageAttributes: message.MessageAttributes,
          })),
        }),
      );
    // The fix: the channel accepts again. The refused alerts go back to their queue and through;
    // the poison ones are parked again at once, and the redrive ends anyway.
    channel.refusing = false;
    expect(await main(['redrive', 'alerts'])).toBe(0);
    await eventually(
      async () => {
        const { rows } = await pool.query<{ delivered: boolean }>(
          'SELECT delivered_at IS NOT NULL AS delivered FROM ops.alerts WHERE id = $1',
          [alertId],
        );
        return rows[0]?.delivered ? true : undefined;
      },
      60_000,
      'the refused alert delivered after the redrive',
    );
    expect(channel.received.filter((text) => text.includes(`data tests failed (${marker})`))).toHaveLength(1);
    await eventually(
      async () =>
        channel.received.filter((text) => text.includes('dead-letter queue')).length >=
        Object.keys(monitored.depths).length
          ? true
          : undefined,
      60_000,
      "the monitor's dead-letter alerts delivered after the redrive",
    );
    // The still-poison ones are back in the DLQ (parked again at once), and nothing of ours with them.
    const stillParked: Message[] = [];
    await eventually(
      async () => {
        stillParked.push(...(await takeAll(queues.alerts.dlq)));
        const bodies = stillParked.map((message) => sameBody(message.Body));
        return poisonOf('alerts').every((poison) => bodies.includes(poison)) ? true : undefined;
      },
      60_000,
      'the poison messages back in the alerts DLQ',
    );
    expect(stillParked.filter((message) => message.Body?.includes(marker))).toEqual([]);

    recordFigures('poison-messages', {
      queues: Object.keys(queues).length,
      messagesSentPerQueue: sent,
      parkedPerQueue: Object.fromEntries(Object.entries(parked).map(([name, list]) => [name, list.length])),
      goodMessagesHandled: { fileLoads: loads[0]!.loads, alertDeliveredAfterRedrive: true },
      monitorAlertedOn: deadLetterAlerts.map((row) => row.subject),
      deadLetterDepthsSeenByTheMonitor: monitored.depths,
      alertRequestsRefusedBeforeTheFix: channel.refused,
      alertMessagesAfterTheFix: channel.received.length,
    });
  });
});
