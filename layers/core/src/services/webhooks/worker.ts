import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { attemptDeliveries, type DeliveryContext, type DeliveryOutcome } from './deliver';
import type { DeliveryAttempt, DeliveryMessage } from '../../platform/events';
import { enqueueLater, type DeliveryQueue } from './queue';

export type MessageOutcome =
  (DeliveryOutcome & { deliveryId: string }) | { kind: 'waiting'; deliveryId: string; notBefore: string };

/**
 * What the deliver function does with one message: too early (a long wait hops through SQS
 * in 15-minute delays) → sent on; otherwise its attempt (or a bundle's first attempts, made
 * together), then for each delivery the next attempt enqueued at its time (its own message:
 * each subscriber keeps its retry schedule), or, after the last one, the delivery put on the
 * dead-letter queue.
 */
export async function handleDeliveryMessage(
  context: DeliveryContext & { queue: DeliveryQueue; deadLetterQueueUrl: string },
  message: DeliveryMessage,
): Promise<MessageOutcome[]> {
  const now = context.now?.() ?? new Date();
  if ('deliveryId' in message && message.notBefore && Date.parse(message.notBefore) > now.getTime() + 1000) {
    await enqueueLater(context.queue, message, now);
    return [{ kind: 'waiting', deliveryId: message.deliveryId, notBefore: message.notBefore }];
  }
  const attempts: DeliveryAttempt[] =
    'deliveries' in message
      ? message.deliveries
      : [{ deliveryId: message.deliveryId, attempt: message.attempt }];
  const outcomes = await attemptDeliveries(context, attempts);
  for (const [index, outcome] of outcomes.entries()) {
    const { deliveryId, attempt } = attempts[index]!;
    if (outcome.kind === 'retry')
      await enqueueLater(
        context.queue,
        { deliveryId, attempt: outcome.attempt, notBefore: outcome.notBefore.toISOString() },
        now,
      );
    if (outcome.kind === 'failed' || outcome.kind === 'gone')
      await context.queue.sqs.send(
        new SendMessageCommand({
          QueueUrl: context.deadLetterQueueUrl,
          MessageBody: JSON.stringify({ deliveryId, attempt }),
        }),
      );
  }
  return outcomes.map((outcome, index) => ({ ...outcome, deliveryId: attempts[index]!.deliveryId }));
}
