import middy from '@middy/core';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import {
  alertDeadLetters,
  alertStaleDatasets,
  datasetHealth,
  deadLetterDepths,
  runtime,
} from '@datacycle/core';

const sqs = new SQSClient({});
/** DLQ name → URL, set by the stack. The alerts DLQ is watched by `datacycle status`, not here. */
const deadLetterQueues = z
  .record(z.string(), z.string())
  .parse(JSON.parse(process.env.DEAD_LETTER_QUEUES ?? '{}'));

/**
 * On its schedule: raises an alert for each dataset gone stale (last load older than its
 * update frequency allows) and each dead-letter queue that received messages.
 */
async function monitor() {
  const platform = runtime();
  const pool = await platform.pool();
  const context = { pool, eventBus: platform.eventBus };
  const health = await datasetHealth(pool, platform.project);
  const stale = await alertStaleDatasets(context, health);
  const depths = await deadLetterDepths(sqs, deadLetterQueues);
  const deadLetters = await alertDeadLetters(context, depths);
  const summary = { stale, deadLetters, depths, datasets: health.length };
  console.log(JSON.stringify({ level: 'info', function: 'monitor', ...summary }));
  return summary;
}

export const handler = middy(monitor);
