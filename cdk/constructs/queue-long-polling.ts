import type { IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** How long the local cloud's queue pollers wait for a message (an SQS long poll's longest). */
export const LOCAL_QUEUE_LONG_POLL_SECONDS = 20;

/**
 * Makes LocalStack's queue pollers long-poll, as AWS's always do. With no batching window,
 * LocalStack's event source mapping receives without waiting and, on an empty queue, sleeps
 * 0.5 to 1.5 s before it asks again: up to 1.5 s per queue hop a message takes (a webhook
 * event crosses two before its first delivery). A batching window of at most 20 s is a plain
 * SQS long poll there, answered as soon as a message is visible. For the local cloud only:
 * on AWS a window makes each batch wait for it.
 */
export class QueueLongPolling implements IAspect {
  constructor(private readonly seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 20)
      throw new Error(`QueueLongPolling: ${seconds} s; an SQS long poll lasts from 1 to 20 s`);
  }

  visit(node: IConstruct): void {
    // Only queues: stream sources (Kinesis, DynamoDB) have a starting position, SQS none.
    if (
      node instanceof lambda.CfnEventSourceMapping &&
      node.startingPosition === undefined &&
      node.maximumBatchingWindowInSeconds === undefined
    )
      node.maximumBatchingWindowInSeconds = this.seconds;
  }
}
