import type { Message, SQSClient } from '@aws-sdk/client-sqs';

/**
 * Gathers the rest of a burst: messages that reach the queue until `windowSeconds` after the
 * first message of the batch was sent. The event source's batching window already does this
 * on AWS (then nothing is left to wait for); here it is guaranteed wherever the stack runs.
 */
export async function drainBurst(
  sqs: SQSClient,
  queueUrl: string,
  firstSentMs: number,
  windowSeconds: number,
  now: () => number = Date.now,
): Promise<Message[]> {
  const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const drained: Message[] = [];
  for (;;) {
    const remaining = Math.floor((firstSentMs + windowSeconds * 1000 - now()) / 1000);
    if (remaining <= 0) return drained;
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: Math.min(remaining, 20),
      }),
    );
    drained.push(...(Messages ?? []));
  }
}

/** Deletes messages drained by drainBurst once the pass that took them in is recorded. */
export async function deleteDrained(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  const { DeleteMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages
          .slice(i, i + 10)
          .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
}
