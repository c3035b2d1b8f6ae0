import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliveryMessageSchema, errorMessage, handleDeliveryMessage, runtime } from '@datacycle/core';

/**
 * Deliveries queue consumer: one attempt per message, the messages of a batch in parallel
 * (each waits 15 s at most). The next attempt, or the dead-letter queue, is decided by the
 * core; only an attempt that could not run at all (database down) fails the message.
 */
async function deliver(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  const pool = await platform.pool();
  const { webhooks, network } = platform.project.config;
  const context = {
    pool,
    secrets: platform.webhookSecrets(),
    network,
    retrySchedule: webhooks.retrySchedule,
    disableAfterHours: webhooks.disableAfterHours,
    eventBus: platform.eventBus,
    queue: { sqs: platform.sqs(), url: process.env.DELIVERIES_QUEUE_URL! },
    deadLetterQueueUrl: process.env.DELIVERIES_DLQ_URL!,
  };
  const one = async (record: SQSRecord) => {
    const parsed = deliveryMessageSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      log('error', 'not a delivery message, dropped', { body: record.body.slice(0, 300) });
      return undefined;
    }
    try {
      const outcome = await handleDeliveryMessage(context, parsed.data);
      log(outcome.kind === 'failed' ? 'error' : 'info', 'delivery', {
        deliveryId: parsed.data.deliveryId,
        ...outcome,
      });
      return undefined;
    } catch (error) {
      log('error', 'attempt could not run, will retry', {
        deliveryId: parsed.data.deliveryId,
        error: errorMessage(error),
      });
      return { itemIdentifier: record.messageId };
    }
  };
  const failures = await Promise.all(event.Records.map(one));
  return { batchItemFailures: failures.filter((failure) => failure !== undefined) };
}

function log(level: 'info' | 'error', message: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, function: 'deliver', message, ...details }));
}

export const handler = middy(deliver);
