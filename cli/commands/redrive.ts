import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseArgs } from '../args';
import { deployedStack, pipelineQueues } from '../stack';

/** How long a message that came back at once stays out of sight while the pass goes on. */
const BOUNCE_HIDDEN_SECONDS = 60;

/**
 * A body as the pass recognises it when it comes back parked: JSON re-serialized the same way
 * (a local cloud may hand the function a JSON body re-serialized), anything else as it is.
 */
function bodyIdentity(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return body;
  }
}

/**
 * `datacycle redrive <queue>`: moves the messages waiting in a queue's DLQ back to the queue,
 * once the cause of their failure is fixed. Each message is sent again before it is deleted
 * from the DLQ: a crash halfway duplicates, never loses (the pipeline is idempotent). A message
 * that still cannot be handled is parked again by its consumer at once: the pass recognises it
 * when it meets it in the DLQ, leaves it there and says so, rather than moving it round forever.
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
  const moved = new Set<string>();
  const failedAgain = new Map<string, string>();
  const hidden: string[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.dlq,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: BOUNCE_HIDDEN_SECONDS,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages || Messages.length === 0) break;
    for (const message of Messages) {
      const identity = bodyIdentity(message.Body ?? '');
      if (moved.has(identity)) {
        // Parked again since this pass moved it: left in the DLQ, out of sight until the end.
        failedAgain.set(identity, message.MessageAttributes?.['datacycle-error']?.StringValue ?? '');
        hidden.push(message.ReceiptHandle ?? '');
        continue;
      }
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: message.Body ?? '',
          MessageAttributes: message.MessageAttributes,
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.dlq, ReceiptHandle: message.ReceiptHandle }));
      moved.add(identity);
    }
  }
  for (const receiptHandle of hidden)
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.dlq,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  console.log(`moved ${moved.size} message(s) from the ${positional[0]} DLQ back to its queue`);
  if (failedAgain.size > 0) {
    console.log(`${failedAgain.size} of them failed again at once and are back in the DLQ:`);
    for (const reason of new Set(failedAgain.values())) console.log(`  ${reason || 'no reason recorded'}`);
  }
  return 0;
}
