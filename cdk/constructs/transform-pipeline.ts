import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EVENT_SOURCE, pipelineEvents } from '@datacycle/core';
import { ModelRunners, type RunnerCode } from './model-runners';
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

  readonly runners: ModelRunners;

  constructor(scope: Construct, id: string, props: PipelinePartProps & { runners: RunnerCode }) {
    super(scope, id);
    const coalesce = props.project.config.transform.coalesceSeconds;
    this.runners = new ModelRunners(this, 'ModelRunners', {
      code: props.runners,
      coreLayer: props.coreLayer,
      network: props.network,
    });
    const consumer = new QueueConsumer(this, 'Transform', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: { ...props.environment, ...this.runners.environment },
      timeout: Duration.minutes(15),
      memorySize: 512,
      description: 'Builds and tests the models after loads',
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
    // Python and R models: the pass hands their inputs and takes their results through the
    // internal bucket (presigned URLs, which carry this function's rights), and waits for them.
    props.buckets.internal.grantReadWrite(this.function, 'transform-exchange/*');
    props.buckets.internal.grantPut(this.function, 'lineage/*'); // OpenLineage events
    this.runners.grantInvoke(this.function);
  }
}
