import {
  alertDeadLetters,
  alertStaleDatasets,
  datasetHealth,
  deadLetterDepths,
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
  const depths = await deadLetterDepths(platform.sqs(), platform.env.DEAD_LETTER_QUEUES);
  const deadLetters = await alertDeadLetters(context, depths);
  const summary = { stale, deadLetters, depths, datasets: health.length };
  log.info('checked', summary);
  return summary;
});
