import { GetQueueAttributesCommand, SQSClient, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { createPool, datasetHealth, loadProject } from '@datacycle/core';
import { parseArgs } from '../args';
import { projectDirOf } from '../project';
import { databaseUrl } from '../database';
import { deployedStack, pipelineQueues } from '../stack';

const age = (hours: number | undefined) =>
  hours === undefined
    ? 'never'
    : hours < 1
      ? `${Math.round(hours * 60)} min`
      : hours < 48
        ? `${hours.toFixed(0)} h`
        : `${(hours / 24).toFixed(0)} d`;

/**
 * `datacycle status <project-dir>`: the health of every dataset (last load against its update
 * frequency, tests, last run), the queues and their DLQs, and alerts not delivered.
 */
export async function statusCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const dir = positional[0] ?? projectDirOf(flags);
  const loaded = await loadProject(dir);
  if (!loaded.ok) {
    console.error(`the project has problems: run datacycle check ${dir}`);
    return 1;
  }
  const pool = createPool(databaseUrl());
  let unhealthy = false;
  try {
    const health = await datasetHealth(pool, loaded.project);
    console.log('dataset              last load   allowed  fresh  tests (pass/fail)  last run');
    for (const item of health) {
      unhealthy ||= item.stale || item.tests.failed > 0;
      console.log(
        [
          item.dataset.padEnd(20),
          age(item.ageHours).padStart(9),
          (item.limitHours === undefined ? '—' : age(item.limitHours)).padStart(9),
          (item.limitHours === undefined || item.lastLoad === undefined
            ? '—'
            : item.stale
              ? 'STALE'
              : 'ok'
          ).padStart(6),
          `${item.tests.passed}/${item.tests.failed}`.padStart(18),
          item.lastRun ? ` ${item.lastRun.status} ${item.lastRun.id}` : ' —',
        ].join(' '),
      );
    }
    const { rows: undelivered } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ops.alerts WHERE delivered_at IS NULL',
    );
    const { outputs, clientConfig } = await deployedStack(flags).catch(() => ({
      outputs: undefined,
      clientConfig: {},
    }));
    if (outputs) {
      const sqs = new SQSClient(clientConfig);
      console.log('\nqueue       waiting  in flight  dead letters');
      const queues = {
        ...pipelineQueues(outputs),
        deliveries: { url: outputs.DeliveriesQueueUrl, dlq: outputs.DeliveriesDlqUrl },
      };
      for (const [name, queue] of Object.entries(queues)) {
        const depth = async (url: string, attribute: QueueAttributeName) =>
          Number(
            (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
              .Attributes?.[attribute] ?? 0,
          );
        const dead = await depth(queue.dlq, 'ApproximateNumberOfMessages');
        unhealthy ||= dead > 0;
        console.log(
          `${name.padEnd(10)} ${String(await depth(queue.url, 'ApproximateNumberOfMessages')).padStart(8)} ${String(await depth(queue.url, 'ApproximateNumberOfMessagesNotVisible')).padStart(10)} ${String(dead).padStart(13)}${dead > 0 ? (name === 'deliveries' ? '  → datacycle webhooks list, then replay' : `  → datacycle redrive ${name}`) : ''}`,
        );
      }
    } else console.log('\n(no deployed stack found: queues not shown)');
    console.log(`\nalerts not delivered: ${undelivered[0]?.n ?? 0}`);
    // Webhook subscribers: those failing now, and those the platform disabled.
    const { rows: subscribers } = await pool.query<{
      id: string;
      url: string;
      enabled: boolean;
      failing_since: Date | null;
      disabled_reason: string | null;
      failed: number;
    }>(
      `SELECT s.id, s.url, s.enabled, s.failing_since, s.disabled_reason,
         (SELECT count(*)::int FROM ops.deliveries d WHERE d.subscription_id = s.id AND d.status = 'failed') AS failed
       FROM ops.subscriptions s ORDER BY s.created_at`,
    );
    const enabled = subscribers.filter((s) => s.enabled);
    console.log(
      `webhook subscriptions: ${enabled.length} enabled, ${subscribers.length - enabled.length} disabled`,
    );
    for (const s of subscribers.filter((s) => (s.enabled && s.failing_since) || s.failed > 0)) {
      unhealthy = true;
      console.log(
        `  ${s.id} ${s.url}: ${!s.enabled ? `disabled (${s.disabled_reason})` : s.failing_since ? `failing since ${s.failing_since.toISOString()}` : 'delivering again'}, ${s.failed} failed deliveries → datacycle webhooks deliveries ${s.id} --status failed, then replay --subscription ${s.id}`,
      );
    }
    return unhealthy ? 1 : 0;
  } finally {
    await pool.end();
  }
}
