import type { SQSClient } from '@aws-sdk/client-sqs';
import type pg from 'pg';
import { raiseAlert, type AlertContext } from '../alerts';
import type { Dataset, Project } from '../project';
import { freshnessLimitHours } from '../transform/data-tests';

export interface DatasetHealth {
  dataset: string;
  accrualPeriodicity: string;
  lastLoad?: Date;
  ageHours?: number;
  /** How old the last load may be (from a freshness test, else the update frequency). */
  limitHours?: number;
  stale: boolean;
  /** The last test results on the dataset's raw table and the models that read it. */
  tests: { passed: number; failed: number; lastCheck?: Date };
  lastRun?: { id: string; status: string; startedAt: Date };
}

/** How each dataset is doing: last load against its update frequency, tests, last run. */
export async function datasetHealth(
  pool: pg.Pool,
  project: Project,
  now = new Date(),
): Promise<DatasetHealth[]> {
  const { rows: loads } = await pool.query<{ dataset: string; last: Date }>(
    `SELECT dataset, max(received_at) AS last FROM ops.files WHERE status = 'loaded' GROUP BY dataset`,
  );
  const { rows: runs } = await pool.query<{ dataset: string; id: string; status: string; started_at: Date }>(
    `SELECT DISTINCT ON (dataset) dataset, id, status, started_at FROM ops.runs
     WHERE dataset IS NOT NULL ORDER BY dataset, started_at DESC`,
  );
  // The latest result of each test of each subject.
  const { rows: tests } = await pool.query<{ subject: string; status: string; checked_at: Date }>(
    `SELECT DISTINCT ON (subject, test) subject, status, checked_at FROM ops.test_results
     ORDER BY subject, test, checked_at DESC`,
  );
  const lastLoad = new Map(loads.map((row) => [row.dataset, row.last]));
  const lastRun = new Map(runs.map((row) => [row.dataset, row]));
  return project.datasets.map((dataset) => {
    const last = lastLoad.get(dataset.id);
    const limitHours = freshnessLimitHours(dataset, declaredMaxAge(dataset));
    const ageHours = last ? (now.getTime() - last.getTime()) / 3_600_000 : undefined;
    const subjects = new Set([
      dataset.id,
      ...project.models.filter((model) => model.sources.includes(dataset.id)).map((model) => model.name),
    ]);
    const own = tests.filter((test) => subjects.has(test.subject));
    const run = lastRun.get(dataset.id);
    return {
      dataset: dataset.id,
      accrualPeriodicity: dataset.config.accrualPeriodicity,
      lastLoad: last,
      ageHours,
      limitHours,
      stale: limitHours !== undefined && ageHours !== undefined && ageHours > limitHours,
      tests: {
        passed: own.filter((test) => test.status === 'pass').length,
        failed: own.filter((test) => test.status !== 'pass').length,
        lastCheck: own.reduce<Date | undefined>(
          (latest, test) => (!latest || test.checked_at > latest ? test.checked_at : latest),
          undefined,
        ),
      },
      lastRun: run ? { id: run.id, status: run.status, startedAt: run.started_at } : undefined,
    };
  });
}

function declaredMaxAge(dataset: Dataset): number | undefined {
  for (const test of dataset.config.tests) if ('freshness' in test) return test.freshness.maxAgeHours;
  return undefined;
}

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
