import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { DatacycleFunction, type DatacycleFunctionProps } from './datacycle-function';
import { QueueWithDlq } from './queue-with-dlq';

export interface QueueConsumerProps extends DatacycleFunctionProps {
  timeout: Duration;
  /** Deliveries before a message is parked in the DLQ. */
  maxReceiveCount?: number;
  batchSize: number;
  maxConcurrency?: number;
  /** How long the event source gathers messages into one batch. */
  maxBatchingWindow?: Duration;
}

/**
 * A queue (with its DLQ) and the function that consumes it, reporting partial batch
 * failures: the shape of every step of the pipeline (ingest, transform, publish, notify,
 * webhook fan-out and delivery). The function knows both queues (QUEUE_URL,
 * DEAD_LETTER_QUEUE_URL): poison messages are parked at once, not retried.
 */
export class QueueConsumer extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    const { batchSize, maxConcurrency, maxBatchingWindow, maxReceiveCount, ...functionProps } = props;
    this.queue = new QueueWithDlq(this, 'Queue', {
      // At least six times the consumer's timeout, as AWS recommends for event source mappings.
      visibilityTimeout: Duration.seconds(props.timeout.toSeconds() * 6),
      maxReceiveCount,
    });
    this.function = new DatacycleFunction(this, 'Function', {
      ...functionProps,
      // The one batch path (consumeQueue) parks poison messages in the DLQ at once, and a
      // message that failed its last delivery with why.
      environment: {
        ...functionProps.environment,
        QUEUE_URL: this.queue.queue.queueUrl,
        DEAD_LETTER_QUEUE_URL: this.queue.deadLetterQueue.queueUrl,
        MAX_RECEIVE_COUNT: String(this.queue.maxReceiveCount),
      },
    }).function;
    this.queue.deadLetterQueue.grantSendMessages(this.function);
    this.function.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize,
        maxConcurrency,
        maxBatchingWindow,
        reportBatchItemFailures: true,
      }),
    );
  }
}
