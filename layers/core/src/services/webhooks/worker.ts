import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { attemptDelivery, type DeliveryContext, type DeliveryOutcome } from './deliver';
import type { DeliveryMessage } from '../../platform/events';
import { enqueueLater, type DeliveryQueue } from './queue';

/**
 * What the deliver function does with one message: too early (a long wait hops through SQS
 * in 15-minute delays) → sent on; otherwise one attempt, then the next attempt enqueued at its
 * time, or, after the last one, the message put on the dead-letter queue.
 */
export async function handleDeliveryMessage(
  context: DeliveryContext & { queue: DeliveryQueue; deadLetterQueueUrl: string },
  message: DeliveryMessage,
): Promise<DeliveryOutcome | { kind: 'waiting'; notBefore: string }> {
  const now = context.now?.() ?? new Date();
  if (message.notBefore && Date.parse(message.notBefore) > now.getTime() + 1000) {
    await enqueueLater(context.queue, message, now);
    return { kind: 'waiting', notBefore: message.notBefore };
  }
  const outcome = await attemptDelivery(context, message.deliveryId, message.attempt);
  if (outcome.kind === 'retry')
    await enqueueLater(
      context.queue,
      {
        deliveryId: message.deliveryId,
        attempt: outcome.attempt,
        notBefore: outcome.notBefore.toISOString(),
      },
      now,
    );
  if (outcome.kind === 'failed' || outcome.kind === 'gone')
    await context.queue.sqs.send(
      new SendMessageCommand({
        QueueUrl: context.deadLetterQueueUrl,
        MessageBody: JSON.stringify({ deliveryId: message.deliveryId, attempt: message.attempt }),
      }),
    );
  return outcome;
}
