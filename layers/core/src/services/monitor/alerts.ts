import type { SQSClient } from '@aws-sdk/client-sqs';
import { raiseAlert, type AlertContext } from '../../platform/events';
import type { DatasetHealth } from '../../platform/runs/health';

/**
 * Raises a `dataset-stale` alert for each stale dataset, once per stale spell: a spell is
 * known by the last load before it, so the alert comes again only after a new load has come
 * and gone stale in turn.
 */
export async function alertStaleDatasets(context: AlertContext, health: DatasetHealth[]): Promise<string[]> {
  const alerted: string[] = [];
  for (const item of health.filter((entry) => entry.stale)) {
    const lastLoad = item.lastLoad!.toISOString();
    const { rows } = await context.pool.query(
      `SELECT 1 FROM ops.alerts WHERE kind = 'dataset-stale' AND subject = $1 AND details->>'lastLoad' = $2 LIMIT 1`,
      [item.dataset, lastLoad],
    );
    if (rows.length > 0) continue;
    await raiseAlert(context, {
      kind: 'dataset-stale',
      severity: 'warning',
      subject: item.dataset,
      title: `${item.dataset} is stale: last loaded ${item.ageHours!.toFixed(0)} h ago`,
      message: `its update frequency (${item.accrualPeriodicity}) allows ${item.limitHours} h; last load ${lastLoad}`,
      hint: 'check its sources (`datacycle runs`), or whether its producer still sends files',
      details: { lastLoad, limitHours: item.limitHours },
    });
    alerted.push(item.dataset);
  }
  return alerted;
}

/** Messages waiting in each dead-letter queue. */
export async function deadLetterDepths(
  sqs: SQSClient,
  queues: Record<string, string>,
): Promise<Record<string, number>> {
  // Loaded here: most functions never look at a queue.
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const depths: Record<string, number> = {};
  for (const [name, url] of Object.entries(queues)) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    depths[name] = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return depths;
}

/** What a message parked without a reason went through (see parkPoisonMessage for the others). */
const RETRIED_OUT =
  'failed every delivery, the last without a word: the function timed out or was killed (its logs say why)';

/**
 * Why the messages of each non-empty DLQ are there, read without taking them (a look at up
 * to 10, visibility unchanged): the `datacycle-error` the batch path parked a poison message
 * with, or that it failed every delivery. Distinct reasons, most frequent first.
 */
export async function deadLetterReasons(
  sqs: SQSClient,
  queues: Record<string, string>,
  depths: Record<string, number>,
): Promise<Record<string, string[]>> {
  const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const reasons: Record<string, string[]> = {};
  for (const [name, url] of Object.entries(queues)) {
    if (!depths[name]) continue;
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['datacycle-error'],
      }),
    );
    const counts = new Map<string, number>();
    for (const message of Messages ?? []) {
      const reason = message.MessageAttributes?.['datacycle-error']?.StringValue ?? RETRIED_OUT;
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    reasons[name] = [...counts].sort((a, b) => b[1] - a[1]).map(([reason]) => reason);
  }
  return reasons;
}

/**
 * A `dead-letter` alert per DLQ that received messages since the monitor last looked (its
 * depth grew), and a daily reminder while some wait, with why they are there when known.
 * Each depth seen is kept in ops.monitor_state.
 */
export async function alertDeadLetters(
  context: AlertContext,
  depths: Record<string, number>,
  reasons: Record<string, string[]> = {},
): Promise<string[]> {
  const alerted: string[] = [];
  for (const [queue, depth] of Object.entries(depths)) {
    const key = `dead-letters:${queue}`;
    const { rows: seen } = await context.pool.query<{ depth: number }>(
      `SELECT (value->>'depth')::int AS depth FROM ops.monitor_state WHERE key = $1`,
      [key],
    );
    await context.pool.query(
      `INSERT INTO ops.monitor_state (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, observed_at = now()`,
      [key, JSON.stringify({ depth })],
    );
    if (depth === 0) continue;
    const { rows: reminded } = await context.pool.query(
      `SELECT 1 FROM ops.alerts WHERE kind = 'dead-letter' AND subject = $1 AND raised_at > now() - interval '1 day'`,
      [queue],
    );
    const grew = depth > (seen[0]?.depth ?? 0);
    if (!grew && reminded.length > 0) continue;
    await raiseAlert(context, {
      kind: 'dead-letter',
      severity: 'error',
      subject: queue,
      title: `${depth} message(s) in the ${queue} dead-letter queue`,
      message: reasons[queue]?.length
        ? `messages are waiting in the ${queue} DLQ: ${reasons[queue]!.slice(0, 3).join('; ')}`
        : `messages that failed every delivery are waiting in the ${queue} DLQ`,
      hint: `see why in the function's logs, fix, then replay them: datacycle redrive ${queue}`,
      details: { depth, ...(reasons[queue] ? { reasons: reasons[queue] } : {}) },
    });
    alerted.push(queue);
  }
  return alerted;
}
