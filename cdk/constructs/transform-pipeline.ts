import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EVENT_SOURCE, pipelineEvents } from '@datacycle/core';
import type { PipelinePartProps } from './pipeline-part';
import { QueueConsumer } from './queue-consumer';
import type { QueueWithDlq } from './queue-with-dlq';

/**
 * dataset.loaded ──rule──► transform queue ──(batching window)──► transform function
 *   ──► models built, tested, published (models.published) or kept (alert).
 * Coalescing: the loads of a burst (within transform.coalesceSeconds) make one pass, through
 * the event source's batching window, and the function draining the rest of the burst.
 */
export class TransformPipeline extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelinePartProps) {
    super(scope, id);
    const coalesce = props.project.config.transform.coalesceSeconds;
    const consumer = new QueueConsumer(this, 'Transform', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.minutes(15),
      memorySize: 512,
      description: 'Builds, tests and publishes the SQL models after loads',
      maxReceiveCount: 3,
      batchSize: 100,
      maxBatchingWindow: coalesce > 0 ? Duration.seconds(coalesce) : undefined,
      maxConcurrency: 2,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;
    new events.Rule(this, 'LoadedRule', {
      eventBus: props.eventBus,
      description: 'dataset.loaded → transform queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [pipelineEvents.datasetLoaded] },
      targets: [new targets.SqsQueue(this.queue.queue)],
    });
    props.grantDatabase(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    // The function drains the rest of a burst from its own queue (QUEUE_URL, see drainBurst).
    this.queue.queue.grantConsumeMessages(this.function);
  }
}
