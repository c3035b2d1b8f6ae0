import { handleDeliveryMessage, queueHandler } from '@datacycle/core';

/**
 * Deliveries queue consumer: one attempt per message, or a bundle of first attempts from a
 * fan-out, the messages of a batch at the same time (each request waits 15 s at most). The next attempt, or the dead-letter queue, is decided by
 * the core; only an attempt that could not run at all (database down) fails the message.
 */
export const handler = queueHandler(
  'webhook-delivery',
  'deliveries',
  async (message, { platform, log }) => {
    const { webhooks, network } = platform.project.config;
    const outcomes = await handleDeliveryMessage(
      {
        pool: await platform.pool(),
        secrets: platform.webhookSecrets(),
        network,
        retrySchedule: webhooks.retrySchedule,
        disableAfterHours: webhooks.disableAfterHours,
        eventBus: platform.eventBus,
        queue: { sqs: platform.sqs(), url: platform.env.QUEUE_URL ?? '' },
        deadLetterQueueUrl: platform.env.DEAD_LETTER_QUEUE_URL ?? '',
      },
      message,
    );
    for (const outcome of outcomes)
      (outcome.kind === 'failed' ? log.error : log.info)('delivery', { ...outcome });
  },
  {
    concurrency: 10,
    describe: (message) =>
      'deliveries' in message
        ? { bundle: message.deliveries.length, first: message.deliveries[0]!.deliveryId }
        : { deliveryId: message.deliveryId, attempt: message.attempt },
  },
);
