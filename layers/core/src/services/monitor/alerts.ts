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

/**
 * A `dead-letter` alert per DLQ that received messages since the monitor last looked (its
 * depth grew), and a daily reminder while some wait. Each depth seen is kept in
 * ops.monitor_state.
 */
export async function alertDeadLetters(
  context: AlertContext,
  depths: Record<string, number>,
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
      message: `messages that failed every delivery are waiting in the ${queue} DLQ`,
      hint: `see why in the function's logs, fix, then replay them: datacycle redrive ${queue}`,
      details: { depth },
    });
    alerted.push(queue);
  }
  return alerted;
}
