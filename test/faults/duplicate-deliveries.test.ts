/**
 * Fault: at-least-once delivery, on the deployed stack. One file's S3 event arrives three times
 * at once (the real notification, and the same event sent twice more to the ingest queue, as S3
 * and SQS may both repeat themselves), and the same bytes arrive under another name. Promised:
 * one load; every other delivery is recorded as a duplicate or acknowledged as already
 * handled; the table holds the rows once. Figures: .local/faults/duplicate-deliveries.json.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqs } from '../../localcloud/aws-clients';
import {
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { s3Notification } from '../fixtures/events';
import { irveExample } from '../helpers/projects';
import { queueDepth } from '../helpers/stack-probes';
import { recordFigures } from './figures';
import { currentIrveRawKey, passesOver, restoreIrveRows } from './pipeline';

const outputs = readStackOutputs();
const pool = testPool();
let previousRawKey: string;

beforeAll(async () => {
  previousRawKey = await currentIrveRawKey(pool);
});
afterAll(async () => {
  await restoreIrveRows(pool, previousRawKey);
  await pool.end();
});

/** The notification S3 sends for an object created in the landing bucket. */
const s3Event = (key: string) => JSON.stringify(s3Notification(outputs.LandingBucket, key));

describe('the same file delivered several times, and under two names', () => {
  it('loads it once', async () => {
    const marker = uniqueName('dup');
    const body = irveExample.replace(/Picpus/g, `Picpus ${marker}`);
    const first = `irve-statique/${marker}-a.csv`;
    const second = `irve-statique/${marker}-b.csv`;
    const s3 = localS3();
    const sqs = localSqs();

    await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: first, Body: body }));
    await Promise.all(
      [1, 2].map(() =>
        sqs.send(new SendMessageCommand({ QueueUrl: outputs.IngestQueueUrl, MessageBody: s3Event(first) })),
      ),
    );
    await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: second, Body: body }));

    const loaded = await recordedFile(pool, first);
    const other = await recordedFile(pool, second);
    // Every delivery handled: the ingest queue empty (those that came after the first load
    // found the object gone and were acknowledged as already handled: no step of their own).
    await eventually(
      async () => ((await queueDepth(outputs.IngestQueueUrl, { inFlight: true })) === 0 ? true : undefined),
      60_000,
      'the ingest queue drained',
    );
    const { rows: runs } = await pool.query<{ status: string }>(
      "SELECT status FROM ops.run_steps WHERE step = 'ingest' AND details->'source'->>'key' = $1",
      [first],
    );
    expect(runs.filter((run) => run.status === 'running')).toEqual([]);
    const { rows: files } = await pool.query<{ key: string; status: string }>(
      'SELECT source_key AS key, status FROM ops.files WHERE source_key = ANY($1) ORDER BY id',
      [[first, second]],
    );

    expect(loaded.status).toBe('loaded');
    expect(other.status).toBe('duplicate');
    expect(files.filter((file) => file.status === 'loaded')).toEqual([{ key: first, status: 'loaded' }]);
    const { rows: table } = await pool.query<{ rows: number; loads: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT _load_id)::int AS loads FROM raw.irve_statique',
    );
    expect(table).toEqual([{ rows: Number(loaded.rows_loaded), loads: 1 }]);
    await passesOver(pool, loaded.run_id);

    recordFigures('duplicate-deliveries', {
      deliveriesOfTheFirstName: 3,
      deliveriesThatReachedAStep: runs.length,
      namesWithTheSameBytes: 2,
      loads: files.filter((file) => file.status === 'loaded').length,
      recordedAsDuplicate: files.filter((file) => file.status === 'duplicate').length,
      stepsOfTheFirstName: runs.map((run) => run.status),
    });
  });
});
