import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { EVENT_SOURCE, pipelineEvents } from '@datacycle/core';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';
import { QueueWithDlq } from './queue-with-dlq';

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
    const timeout = Duration.minutes(15);
    this.queue = new QueueWithDlq(this, 'TransformQueue', {
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      maxReceiveCount: 3,
    });
    this.function = new DatacycleFunction(this, 'Transform', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      // The function drains the rest of a burst from its own queue (see drainBurst).
      environment: { ...props.environment, TRANSFORM_QUEUE_URL: this.queue.queue.queueUrl },
      timeout,
      memorySize: 512,
      description: 'Builds, tests and publishes the SQL models after loads',
    }).function;
    new events.Rule(this, 'LoadedRule', {
      eventBus: props.eventBus,
      description: 'dataset.loaded → transform queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [pipelineEvents.datasetLoaded] },
      targets: [new targets.SqsQueue(this.queue.queue)],
    });
    const coalesce = props.project.config.transform.coalesceSeconds;
    this.function.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize: 100,
        maxBatchingWindow: coalesce > 0 ? Duration.seconds(coalesce) : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );
    props.grantDatabase(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    this.queue.queue.grantConsumeMessages(this.function);
  }
}
