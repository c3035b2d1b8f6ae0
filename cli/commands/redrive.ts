import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseArgs } from '../args';
import { deployedStack, pipelineQueues } from '../stack';

/**
 * `datacycle redrive <queue>`: moves the messages waiting in a queue's DLQ back to the queue,
 * once the cause of their failure is fixed. Each message is sent again before it is deleted
 * from the DLQ: a crash halfway duplicates, never loses (the pipeline is idempotent).
 */
export async function redriveCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, ['aws']);
  const { outputs, clientConfig } = await deployedStack(flags);
  const queues = pipelineQueues(outputs);
  const queue = queues[positional[0] ?? ''];
  if (!queue) {
    console.error(`usage: datacycle redrive <${Object.keys(queues).join('|')}> [--aws --stack <name>]`);
    return 2;
  }
  const sqs = new SQSClient(clientConfig);
  let moved = 0;
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.dlq,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages || Messages.length === 0) break;
    for (const message of Messages) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: message.Body ?? '',
          MessageAttributes: message.MessageAttributes,
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.dlq, ReceiptHandle: message.ReceiptHandle }));
      moved++;
    }
  }
  console.log(`moved ${moved} message(s) from the ${positional[0]} DLQ back to its queue`);
  return 0;
}
