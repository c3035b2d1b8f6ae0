/**
 * The activation part of `npm run bench`:
 *   - the read API's rows endpoint under a load tool (autocannon) on loopback, against the
 *     1M-row table of the bench database, on a plain HTTP server (the core without Lambda),
 *     and through the deployed function URL on LocalStack (the example's small table);
 *   - fan-out of one event to 1 000 subscriptions through the deployed stack: deliveries/s
 *     and the time from the event to each delivery at a loopback subscriber.
 */
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import autocannon from 'autocannon';
import {
  createPool,
  createSubscription,
  deleteSubscription,
  loadProject,
  webhookSecretPrefix,
  type ApiContext,
} from '@datacycle/core';
import { localClientConfig, localFunctionUrlHost, localS3 } from '../localcloud/aws-clients';
import { serveApi } from '../localcloud/api-server';
import { readStackOutputs } from '../localcloud/deploy';
import { packageRoot } from '../localcloud/settings';
import { receiveWebhooks } from '../localcloud/webhook-receiver';
import path from 'node:path';

export interface ApiLoad {
  name: string;
  path: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface ActivationBench {
  api: {
    table: string;
    rows: number;
    connections: number;
    seconds: number;
    direct: ApiLoad[];
    functionUrl: ApiLoad[];
  };
  fanOut: {
    subscriptions: number;
    delivered: number;
    seconds: number;
    deliveriesPerSecond: number;
    /** From the event to the first delivery: the queues and functions before any request. */
    firstMs: number;
    p50Ms: number;
    p99Ms: number;
    verified: number;
  };
}

const connections = 4;
const duration = 10;

async function load(name: string, url: string, host?: string): Promise<ApiLoad> {
  const result = await autocannon({ url, connections, duration, headers: host ? { host } : {} });
  const target = new URL(url);
  return {
    name,
    path: `${target.pathname}${target.search}`,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function benchApi(benchUrl: string, rows: number): Promise<ActivationBench['api']> {
  const loaded = await loadProject(path.join(packageRoot, 'examples/territoires'));
  if (!loaded.ok) throw new Error('the example project is invalid');
  const pool = createPool(benchUrl, connections + 2);
  const context: ApiContext = {
    pool,
    project: loaded.project,
    s3: localS3(),
    publicBucket: readStackOutputs().PublicBucket,
    secrets: { client: new SecretsManagerClient(localClientConfig()), prefix: webhookSecretPrefix('bench') },
  };
  const server = await serveApi(context);
  // A cursor deep in the table: keyset pages cost the same at any depth.
  const first = (await (
    await fetch(`${server.url}/datasets/irve-statique/rows?limit=1000&fields=id_pdc_itinerance`)
  ).json()) as {
    links: { next: string };
  };
  let deep = first.links.next;
  for (let page = 0; page < 200; page++) {
    const next = (await (await fetch(deep)).json()) as { links: { next: string } };
    deep = next.links.next;
  }
  const queries: [string, string][] = [
    ['first page (100 rows)', '/datasets/irve-statique/rows?limit=100'],
    ['page 200 000 rows deep (keyset)', `${new URL(deep).pathname}${new URL(deep).search}`],
    ['bbox around Orléans (GiST)', '/datasets/irve-statique/rows?bbox=1.85,47.85,1.95,47.95&limit=100'],
    ['filter on an unindexed field', '/datasets/irve-statique/rows?code_insee_commune=45234&limit=100'],
    ['indicator, sorted', '/datasets/irve_par_departement/rows?order=-points_de_recharge&limit=10'],
  ];
  const direct: ApiLoad[] = [];
  try {
    for (const [name, query] of queries) direct.push(await load(name, `${server.url}${query}`));
  } finally {
    await server.close();
    await pool.end();
  }
  // Through LocalStack's function URL (the example's own small tables): Lambda's share.
  const host = localFunctionUrlHost(readStackOutputs().ApiUrl);
  const functionUrl = [
    await load(
      'function URL, first page',
      'http://127.0.0.1:4566/datasets/irve-statique/rows?limit=100',
      host,
    ),
    await load(
      'function URL, indicator',
      'http://127.0.0.1:4566/datasets/irve_par_departement/rows?order=-points_de_recharge&limit=10',
      host,
    ),
  ];
  return { table: 'raw.irve_statique', rows, connections, seconds: duration, direct, functionUrl };
}

/** One outputs.published event on the deployed bus, to `count` subscriptions of one receiver. */
const BENCH_SUBSCRIPTION = 'datacycle bench: fan-out';

export async function benchFanOut(databaseUrl: string, count = 1_000): Promise<ActivationBench['fanOut']> {
  const outputs = readStackOutputs();
  const loaded = await loadProject(path.join(packageRoot, 'examples/territoires'));
  if (!loaded.ok) throw new Error('the example project is invalid');
  const pool = createPool(databaseUrl);
  const secrets = {
    client: new SecretsManagerClient(localClientConfig()),
    prefix: webhookSecretPrefix(outputs.ProjectName),
  };
  const receiver = await receiveWebhooks();
  const ids: string[] = [];
  // Subscriptions an interrupted run left behind would receive this run's event too.
  const { rows: leftovers } = await pool.query<{ id: string }>(
    'SELECT id FROM ops.subscriptions WHERE description = $1',
    [BENCH_SUBSCRIPTION],
  );
  for (const { id } of leftovers) await deleteSubscription({ pool, secrets, project: loaded.project }, id);
  try {
    for (let i = 0; i < count; i++) {
      const { subscription, secret } = await createSubscription(
        { pool, secrets, project: loaded.project },
        {
          url: `${receiver.url}/${i}`,
          events: ['dataset.published'],
          datasets: ['regions'],
          enabled: true,
          description: BENCH_SUBSCRIPTION,
        },
      );
      ids.push(subscription.id);
      // Each subscriber checks its own signature (as 1,000 real ones would), not 1,000 secrets.
      receiver.secretsByPath.set(`/webhooks/${i}`, secret);
    }
    const sent = Date.now();
    await new EventBridgeClient(localClientConfig()).send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: outputs.EventBusName,
            Source: 'datacycle',
            DetailType: 'datacycle.outputs.published',
            Detail: JSON.stringify({ outputs: ['regions'], version: 'bench', runIds: [] }),
          },
        ],
      }),
    );
    const deadline = Date.now() + 300_000;
    while (receiver.received.length < count && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const latencies = receiver.received.map((r) => r.receivedAt.getTime() - sent).sort((a, b) => a - b);
    const seconds = (latencies[latencies.length - 1] ?? 0) / 1000;
    return {
      subscriptions: count,
      delivered: receiver.received.length,
      seconds: Math.round(seconds * 100) / 100,
      deliveriesPerSecond: Math.round(receiver.received.length / Math.max(seconds, 0.001)),
      firstMs: latencies[0] ?? 0,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      // Each verified with its own subscription's secret.
      verified: receiver.received.filter((r) => r.verified === 'ok').length,
    };
  } finally {
    await receiver.close();
    for (const id of ids) await deleteSubscription({ pool, secrets, project: loaded.project }, id);
    await pool.end();
  }
}
