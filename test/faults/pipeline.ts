/**
 * What the fault scenarios share: the deployed functions' processes (to kill one), the state of
 * a dataset's table (to compare before and after), and waiting until a load's transform and
 * publish passes are over (so that one scenario's aftermath does not run into the next).
 */
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { Upload } from '@aws-sdk/lib-storage';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type pg from 'pg';
import { LOCAL_QUEUE_LONG_POLL_SECONDS } from '../../cdk/constructs/queue-long-polling';
import { localSqs } from '../../localcloud/aws-clients';
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  eventually,
  localS3,
  objectExists,
  readStackOutputs,
  recordedFile,
  uniqueName,
} from '../helpers/local-cloud';
import { irveExample } from '../helpers/projects';

/**
 * The worker processes of a deployed function on the local executor (supervisor.mjs forks one
 * worker per execution environment; the worker runs the handler). Found by the
 * AWS_LAMBDA_FUNCTION_NAME that LocalStack gives the runtime.
 */
export function functionWorkers(functionName: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((arg) => arg.endsWith('supervisor.mjs')) || cmdline.at(-2) !== 'worker') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`AWS_LAMBDA_FUNCTION_NAME=${functionName}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** A table's row count and a digest of its content (order-independent), to prove nothing changed. */
export async function tableState(pool: pg.Pool, table: string): Promise<{ rows: number; digest: string }> {
  const { rows } = await pool.query<{ rows: number; digest: string }>(
    `SELECT count(*)::int AS rows,
       coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') AS digest
     FROM ${table} t`,
  );
  return rows[0]!;
}

/** Waits until the run's transform pass (and the publication after it) is over. */
export function passesOver(pool: pg.Pool, runId: string, timeoutMs = 300_000): Promise<true> {
  return eventually(
    async () => {
      const { rows } = await pool.query<{ step: string; status: string }>(
        "SELECT step, status FROM ops.run_steps WHERE run_id = $1 AND step IN ('transform', 'publish')",
        [runId],
      );
      const transform = rows.filter((row) => row.step === 'transform');
      if (transform.length === 0 || transform.some((row) => row.status === 'running')) return undefined;
      if (transform.every((row) => row.status !== 'succeeded')) return true;
      const publish = rows.filter((row) => row.step === 'publish');
      return publish.length > 0 && publish.every((row) => row.status !== 'running') ? true : undefined;
    },
    timeoutMs,
    `the transform and publish passes of run ${runId}`,
  );
}

/** Uploads a file to landing/ (multipart) and waits until its COPY has taken `share` of `rows`. */
export async function dropAndWaitForCopy(
  pool: pg.Pool,
  key: string,
  file: string,
  rows: number,
  share = 0.2,
) {
  await new Upload({
    client: localS3(),
    params: { Bucket: readStackOutputs().LandingBucket, Key: key, Body: createReadStream(file) },
  }).done();
  return eventually(
    async () => {
      const n = await rowsCopiedSoFar(pool);
      return n !== undefined && n >= rows * share ? n : undefined;
    },
    180_000,
    `the COPY of ${key} under way`,
  );
}

/**
 * How far the COPY of a load in this database has gone while it runs (PostgreSQL 14+), whatever
 * table it writes to (a replace may load a new table that is then swapped in).
 */
export async function rowsCopiedSoFar(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ tuples: string }>(
    `SELECT p.tuples_processed AS tuples FROM pg_stat_progress_copy p
     WHERE p.datname = current_database() AND p.command = 'COPY FROM'`,
  );
  return rows[0] ? Number(rows[0].tuples) : undefined;
}

/**
 * Shortens queues' visibility timeouts while a scenario runs, so that a message whose
 * function died comes back in seconds rather than after six times the function's timeout
 * (what the stack sets, as AWS recommends). Returns what puts them back.
 *
 * Then waits out the pollers' long polls: LocalStack gives a message the visibility timeout
 * its queue had when the receive began, so a poll already waiting would hand the scenario's
 * message out with the stack's (30 minutes for ingest).
 */
export async function shortenVisibility(queueUrls: string[], seconds: number): Promise<() => Promise<void>> {
  const sqs = localSqs();
  const set = (queueUrl: string, value: string) =>
    sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: value } }));
  const before: [string, string][] = [];
  for (const queueUrl of queueUrls) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    before.push([queueUrl, Attributes!.VisibilityTimeout!]);
    await set(queueUrl, String(seconds));
  }
  await new Promise((resolve) => setTimeout(resolve, (LOCAL_QUEUE_LONG_POLL_SECONDS + 1) * 1000));
  return async () => {
    for (const [queueUrl, value] of before) await set(queueUrl, value);
  };
}

/**
 * Puts the example's irve-statique rows back after a scenario loaded its own: the file loaded
 * before it, copied from the raw bucket (or the example file, when a LocalStack restart emptied
 * the buckets meanwhile), dropped again; waits until its passes are over.
 */
export async function restoreIrveRows(pool: pg.Pool, previousRawKey: string): Promise<void> {
  const outputs = readStackOutputs();
  const s3 = localS3();
  const key = `irve-statique/${uniqueName('fault-restore')}.csv`;
  const landing = { Bucket: outputs.LandingBucket, Key: key };
  if (await objectExists(s3, outputs.RawBucket, previousRawKey))
    await s3.send(
      new CopyObjectCommand({ ...landing, CopySource: `${outputs.RawBucket}/${previousRawKey}` }),
    );
  else await s3.send(new PutObjectCommand({ ...landing, Body: irveExample }));
  const restored = await recordedFile(pool, key, 120_000);
  if (restored.status !== 'loaded')
    throw new Error(`the example's rows were not restored: ${restored.error}`);
  await passesOver(pool, restored.run_id, 600_000);
}

/** The file irve-statique holds now (its raw copy), to put back with restoreIrveRows. */
export async function currentIrveRawKey(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ raw_key: string }>(
    "SELECT raw_key FROM ops.files WHERE dataset = 'irve-statique' AND status = 'loaded' ORDER BY id DESC LIMIT 1",
  );
  return rows[0]!.raw_key;
}
