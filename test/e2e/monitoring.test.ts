/**
 * Health checks through the deployed stack: the monitor function (the target of the hourly
 * rule) alerts on a dataset gone stale and on dead letters; `datacycle redrive` replays them.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { irveExample } from '../helpers/projects';
import { queueDepth, runMonitor } from '../helpers/stack-probes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { receiveAlerts, type AlertReceiver } from '../../localcloud/alert-receiver';
import { localClientConfig } from '../../localcloud/aws-clients';
import {
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';

const example = irveExample;
const outputs = readStackOutputs();
const pool = testPool();
const sqs = new SQSClient(localClientConfig());
let receiver: AlertReceiver;
let shifted: string[] = [];

const depth = (url: string) => queueDepth(url);

beforeAll(async () => {
  receiver = await receiveAlerts();
});
afterAll(async () => {
  // Back to the present.
  await pool.query(
    "UPDATE ops.files SET received_at = received_at + interval '3 days' WHERE id = ANY($1::bigint[])",
    [shifted],
  );
  await receiver.close();
  await pool.end();
});

describe('monitoring on the deployed stack', () => {
  it('alerts once when a dataset goes stale', async () => {
    const key = `irve-statique/${uniqueName('fresh')}.csv`;
    await localS3().send(
      new PutObjectCommand({
        Bucket: outputs.LandingBucket,
        Key: key,
        Body: example.replace(/Picpus/g, `Picpus ${uniqueName('m')}`),
      }),
    );
    expect((await recordedFile(pool, key)).status).toBe('loaded');
    expect((await runMonitor()).stale).not.toContain('irve-statique');

    // Three days pass without a load (irve-statique is daily: 36 h allowed).
    const { rows } = await pool.query<{ id: string }>(
      "UPDATE ops.files SET received_at = received_at - interval '3 days' WHERE dataset = 'irve-statique' AND status = 'loaded' RETURNING id",
    );
    shifted = rows.map((row) => row.id);

    expect((await runMonitor()).stale).toContain('irve-statique');
    const message = await eventually(
      async () => receiver.received.find((m) => m.text.includes('irve-statique is stale')),
      60_000,
      'the stale alert at the webhook',
    );
    expect(message.text).toMatch(/last loaded 72 h ago/);
    expect((await runMonitor()).stale).not.toContain('irve-statique'); // once per stale spell
  });

  it('alerts on dead letters, which datacycle redrive sends back to their queue', async () => {
    // A delivery that failed every attempt: here, the S3 event of an object gone since.
    const body = JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: outputs.LandingBucket },
            object: { key: `irve-statique/${uniqueName('gone')}.csv` },
          },
        },
      ],
    });
    expect(await depth(outputs.IngestDlqUrl)).toBe(0);
    await runMonitor(); // sees the DLQ empty
    await sqs.send(new SendMessageCommand({ QueueUrl: outputs.IngestDlqUrl, MessageBody: body }));

    const checked = await runMonitor();

    expect(checked.deadLetters).toEqual(['ingest']);
    await eventually(
      async () => receiver.received.find((m) => m.text.includes('in the ingest dead-letter queue')),
      60_000,
      'the dead-letter alert at the webhook',
    );
    expect(await main(['redrive', 'ingest'])).toBe(0);
    expect(await depth(outputs.IngestDlqUrl)).toBe(0);
    // Replayed, the message is handled (the object is gone: acknowledged) and does not come back.
    await eventually(
      async () => ((await depth(outputs.IngestQueueUrl)) === 0 ? true : undefined),
      30_000,
      'an empty ingest queue',
    );
    expect(await depth(outputs.IngestDlqUrl)).toBe(0);
  });
});
