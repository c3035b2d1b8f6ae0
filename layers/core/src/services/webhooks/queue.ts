import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryMessage, SingleDeliveryMessage } from '../../platform/events';

/** SQS's longest message delay. */
export const MAX_SQS_DELAY_SECONDS = 900;

export interface DeliveryQueue {
  sqs: SQSClient;
  url: string;
}

/** Enqueues messages (attempts, bundles of first attempts), ten per SQS call. */
export async function enqueueDeliveries(queue: DeliveryQueue, messages: DeliveryMessage[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    const result = await queue.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: batch.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
      }),
    );
    if (result.Failed?.length)
      throw new Error(
        `the deliveries queue refused ${result.Failed.length} message(s): ${result.Failed[0]!.Message}`,
      );
  }
}

/** Enqueues one attempt to run at `notBefore`: delayed by SQS up to 15 minutes, then hops. */
export async function enqueueLater(
  queue: DeliveryQueue,
  message: SingleDeliveryMessage,
  now = new Date(),
): Promise<void> {
  const wait = message.notBefore ? Math.ceil((Date.parse(message.notBefore) - now.getTime()) / 1000) : 0;
  await queue.sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.url,
      MessageBody: JSON.stringify(message),
      DelaySeconds: Math.max(0, Math.min(wait, MAX_SQS_DELAY_SECONDS)),
    }),
  );
}
