import {
  alertDeadLetters,
  alertStaleDatasets,
  datasetHealth,
  deadLetterDepths,
  deadLetterReasons,
  lambdaHandler,
} from '@datacycle/core';

/**
 * On its schedule: raises an alert for each dataset gone stale (last load older than its
 * update frequency allows) and each dead-letter queue that received messages (DEAD_LETTER_QUEUES;
 * the alerts DLQ is watched by `datacycle status`, not here).
 */
export const handler = lambdaHandler('monitor', async (_event: unknown, { platform, log }) => {
  const pool = await platform.pool();
  const context = { pool, eventBus: platform.eventBus };
  const health = await datasetHealth(pool, platform.project);
  const stale = await alertStaleDatasets(context, health);
  const queues = platform.env.DEAD_LETTER_QUEUES;
  const depths = await deadLetterDepths(platform.sqs(), queues);
  const reasons = await deadLetterReasons(platform.sqs(), queues, depths);
  const deadLetters = await alertDeadLetters(context, depths, reasons);
  const summary = { stale, deadLetters, depths, datasets: health.length };
  log.info('checked', summary);
  return summary;
});
