/**
 * `npm start`: the example pipeline end to end on the local cloud. Drops the example files
 * of examples/territoires in the landing bucket, as a producer would, waits for the deployed
 * ingest function to load them (S3 event → SQS → Lambda on LocalStack) and prints a summary.
 */
import path from 'node:path';
import pg from 'pg';
import { publicBucketUrl } from '@datacycle/core';
import { receiveAlerts } from './alert-receiver';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localClientConfig, localFunctionUrlHost } from './aws-clients';
import { receiveWebhooks, webhookReceiverPort, type WebhookReceiver } from './webhook-receiver';
import { examplePortalPort as portalPort, serveExamplePortal } from './example-portal';
import { fireSchedule } from './schedules';
import { SetupError } from './process';
import { readStackOutputs } from './deploy';
import { awsLocalEnvironment, exampleProjectDir } from './settings';
import { up } from './up';
import { dropFile } from './drop';
import { loadCheckedProject } from '../cli/project';

/** A producer drops the IRVE file (as `datacycle drop` does); the départements are collected from a (local) portal. */
const drops = [
  { file: path.join(exampleProjectDir, 'data/irve-statique-exemple.csv'), dataset: 'irve-statique' },
];

interface FileRow {
  run_id: string;
  dataset: string;
  source_key: string;
  status: string;
  rows_loaded: string;
  report_key: string;
  error: string | null;
  received_at: Date;
}

async function main() {
  const { outputs, databaseUrl, timings } = await up(exampleProjectDir);
  const keys: string[] = [];
  const portal = await serveExamplePortal();
  // The example's alert channel: a local webhook that prints what the notify function sends.
  const alerts = await receiveAlerts((message) =>
    console.log(`\n✉ alert received by the webhook channel:\n  ${message.text.split('\n').join('\n  ')}`),
  );
  // The example's webhook subscriber: verifies each signed delivery and prints it.
  const webhooks = await startSubscriber(databaseUrl);
  const droppedAt = new Date();
  const rules = Object.values(JSON.parse(outputs.ScheduleRules) as Record<string, string>);
  for (const rule of rules) await fireSchedule(rule);
  console.log(`\n› fired ${rules.length} schedule(s): collect from http://127.0.0.1:${portalPort}/`);
  const project = await loadCheckedProject(exampleProjectDir);
  for (const drop of drops)
    keys.push((await dropFile(exampleProjectDir, project, drop.file, drop.dataset)).key);
  console.log(
    `\n› dropped ${keys.length} file(s) in s3://${outputs.LandingBucket}/ — waiting for the pipeline…`,
  );

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const files = await waitForFiles(client, keys, droppedAt, rules.length, 90_000);
    const latency = (Math.max(...files.map((f) => f.received_at.getTime())) - droppedAt.getTime()) / 1000;
    const collected = await client.query<{
      dataset: string;
      status: string;
      details: { http?: number; reason?: string; records?: number };
    }>(
      `SELECT r.dataset, s.status, s.details FROM ops.runs r JOIN ops.run_steps s ON s.run_id = r.id
       WHERE r.trigger = 'schedule' AND r.started_at >= $1 AND s.step = 'collect' ORDER BY r.started_at`,
      [droppedAt],
    );
    for (const run of collected.rows) {
      console.log(
        `collect ${run.dataset}: ${
          run.status === 'skipped'
            ? `nothing new (${run.details.reason ?? 'unchanged'}), nothing fetched`
            : `${run.status}${run.details.http ? ` (HTTP ${run.details.http})` : ''}${run.details.records !== undefined ? `, ${run.details.records} records` : ''}`
        }`,
      );
    }
    console.log('\nDataset          Verdict     Rows  Table                 Report');
    for (const file of files) {
      const table = `raw.${file.dataset.replaceAll('-', '_')}`;
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*) FROM ${pg.escapeIdentifier('raw')}.${pg.escapeIdentifier(file.dataset.replaceAll('-', '_'))}`,
      );
      console.log(
        `${file.dataset.padEnd(16)} ${file.status.padEnd(9)} ${String(rows[0]?.count ?? 0).padStart(6)}  ${table.padEnd(21)} s3://${outputs.InternalBucket}/${file.report_key}`,
      );
      if (file.error) console.log(`  ↳ ${file.error}`);
    }
    console.log(`\ndrop-to-rows latency: ${latency.toFixed(1)} s (setup: ${timings.total?.toFixed(1)} s)`);
    console.log(
      'a "duplicate" verdict means the same content was already loaded by an earlier run: nothing loads twice.',
    );
    console.log(
      `explore: psql ${databaseUrl.replace(/:[^:@/]+@/, ':***@')} -c 'select * from ops.files order by id desc limit 5'`,
    );
    await showIndicators(client, files);
    await showDeliveries(webhooks, outputs.ApiUrl);
    if (files.some((file) => file.status === 'rejected')) process.exitCode = 1;
  } finally {
    await client.end();
    portal.close();
    await alerts.close();
    await webhooks.close();
  }
}

/** The declared demo subscriber on loopback, checking signatures with its secret. */
async function startSubscriber(databaseUrl: string): Promise<WebhookReceiver> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ secret_id: string }>(
      "SELECT secret_id FROM ops.subscriptions WHERE name = 'territoires/demo-subscriber'",
    );
    const secrets = new SecretsManagerClient(localClientConfig());
    const stored = rows[0]
      ? (JSON.parse(
          (await secrets.send(new GetSecretValueCommand({ SecretId: rows[0].secret_id }))).SecretString!,
        ) as { current: string })
      : undefined;
    let printed = 0;
    const receiver = await receiveWebhooks({
      port: webhookReceiverPort,
      secrets: stored ? [stored.current] : [],
    });
    // Printed as they come, a line each.
    const timer = setInterval(() => {
      for (const delivery of receiver.received.slice(printed)) {
        const payload = JSON.parse(delivery.body) as { type: string; data: { dataset?: string } };
        console.log(
          `⇢ webhook ${payload.type} ${payload.data.dataset ?? ''} (${delivery.id}): signature ${delivery.verified === 'ok' ? 'verified' : delivery.verified}`,
        );
      }
      printed = receiver.received.length;
    }, 200);
    return { ...receiver, close: async () => (clearInterval(timer), receiver.close()) };
  } finally {
    await client.end();
  }
}

/** Waits a little for the dataset.published deliveries, then shows how to read the API. */
async function showDeliveries(webhooks: WebhookReceiver, apiUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !webhooks.received.some((r) => r.body.includes('dataset.published')))
    await new Promise((resolve) => setTimeout(resolve, 300));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  console.log(`\nread API (function URL, routed by host name on LocalStack):`);
  console.log(
    `  curl -H 'host: ${localFunctionUrlHost(apiUrl)}' 'http://127.0.0.1:4566/datasets/irve_par_departement/rows?order=-points_de_recharge&limit=3'`,
  );
}

async function showTransform(client: pg.Client, loaded: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  let step: { status: string; error: string | null; transform_id: string } | undefined;
  while (!step && Date.now() < deadline) {
    const { rows } = await client.query<{ status: string; error: string | null; transform_id: string }>(
      `SELECT status, error, details->>'transformId' AS transform_id FROM ops.run_steps
       WHERE run_id = ANY($1::uuid[]) AND step = 'transform' AND status <> 'running' ORDER BY id DESC LIMIT 1`,
      [loaded],
    );
    step = rows[0];
    if (!step) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!step)
    throw new SetupError('the models were not rebuilt within 60 s', 'see the transform queue and its DLQ');
  const { rows: tests } = await client.query<{
    subject: string;
    test: string;
    status: string;
    message: string;
  }>('SELECT subject, test, status, message FROM ops.test_results WHERE transform_id = $1 ORDER BY id', [
    step.transform_id,
  ]);
  const failing = tests.filter((test) => test.status !== 'pass');
  console.log(
    `\ntransform: ${step.status === 'succeeded' ? 'models published' : 'nothing published'}, ${tests.length - failing.length}/${tests.length} data tests passed`,
  );
  for (const test of failing) console.log(`  ✗ ${test.subject}: ${test.test} — ${test.message}`);
  if (step.error) console.log(`  ↳ ${step.error}`);
  if (step.status === 'succeeded') await showPublication(client, loaded);
}

/** The publish step that follows a pass whose tests passed: what went to the public bucket. */
async function showPublication(client: pg.Client, loaded: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await client.query<{ details: { outputs?: { name: string; files: string[] }[] } }>(
      `SELECT details FROM ops.run_steps WHERE run_id = ANY($1::uuid[]) AND step = 'publish' AND status <> 'running'
       ORDER BY id DESC LIMIT 1`,
      [loaded],
    );
    const outputs = rows[0]?.details.outputs;
    if (outputs) {
      const base = publicBucketUrl(readStackOutputs().PublicBucket, awsLocalEnvironment());
      console.log(`\npublished (${outputs.length} datasets and models), e.g.:`);
      for (const output of outputs.slice(0, 3)) console.log(`  ${base}/${output.files[0]}`);
      console.log(`catalog: ${base}/catalog/catalog.jsonld (and catalog.ttl)`);
      console.log(`portal:  ${base}/portal/index.html (open it in a browser)`);
      return;
    }
    if (Date.now() > deadline)
      throw new SetupError('nothing was published within 60 s', 'see the publish queue and its DLQ');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * The transform pass that followed the loads, if any (models rebuilt, tests), and the indicator
 * published now: charging points per département.
 */
async function showIndicators(client: pg.Client, files: FileRow[]): Promise<void> {
  const loaded = files.filter((file) => file.status === 'loaded').map((file) => file.run_id);
  if (loaded.length === 0) console.log('\nno new data loaded: the models were not rebuilt');
  else await showTransform(client, loaded);
  const { rows: exists } = await client.query(
    "SELECT to_regclass('enriched.irve_par_departement') IS NOT NULL AS ok",
  );
  if (!exists[0]?.ok) return;
  const { rows } = await client.query(
    `SELECT code_departement, nom_departement, points_de_recharge, stations, puissance_totale_kw
     FROM enriched.irve_par_departement ORDER BY points_de_recharge DESC, code_departement LIMIT 3`,
  );
  console.log('\nenriched.irve_par_departement (top 3 of 96):');
  for (const row of rows)
    console.log(
      `  ${row.code_departement} ${String(row.nom_departement).padEnd(20)} ${String(row.points_de_recharge).padStart(4)} points  ${String(row.stations).padStart(3)} stations  ${row.puissance_totale_kw} kW`,
    );
}

/** Files recorded for the drops, plus one per fired schedule whose source had changed. */
async function waitForFiles(
  client: pg.Client,
  keys: string[],
  since: Date,
  schedules: number,
  timeoutMs: number,
): Promise<FileRow[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows: dropped } = await client.query<FileRow>(
      'SELECT run_id, dataset, source_key, status, rows_loaded, report_key, error, received_at FROM ops.files WHERE source_key = ANY($1)',
      [keys],
    );
    // The collect step of each fired schedule (later steps of the same run come after).
    const { rows: runs } = await client.query<{ status: string; key: string | null }>(
      `SELECT s.status, s.details->>'key' AS key FROM ops.runs r JOIN ops.run_steps s ON s.run_id = r.id
       WHERE r.trigger = 'schedule' AND r.started_at >= $1 AND s.step = 'collect' AND s.status <> 'running'`,
      [since],
    );
    const collectedKeys = runs.map((run) => run.key).filter((key): key is string => key !== null);
    const { rows: collected } = await client.query<FileRow>(
      'SELECT run_id, dataset, source_key, status, rows_loaded, report_key, error, received_at FROM ops.files WHERE source_key = ANY($1)',
      [collectedKeys],
    );
    if (runs.some((run) => run.status === 'failed')) {
      throw new SetupError(
        'a scheduled collection failed',
        "see `select * from ops.runs where status = 'failed'`",
      );
    }
    if (
      dropped.length === keys.length &&
      runs.length >= schedules && // a schedule may also fire by itself meanwhile
      collected.length === collectedKeys.length
    ) {
      return [...collected, ...dropped].sort((a, b) => a.dataset.localeCompare(b.dataset));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new SetupError(
    `the pipeline did not record the files within ${timeoutMs / 1000} s`,
    'look at .local/localstack/localstack.log, ops.runs and the ingest queue DLQ',
  );
}

main().catch((error: unknown) => {
  console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof SetupError && error.fix) console.error(`  fix: ${error.fix}`);
  process.exit(1);
});
