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
 * dataset.transformed ──rule──► publish queue ──► publish function ──► public bucket
 *   exports/<name>/<version>/ and latest/ (CSV, XLSX, GeoJSON, Parquet, datapackage.json).
 */
export class Publication extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelinePartProps) {
    super(scope, id);
    const consumer = new QueueConsumer(this, 'Publish', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.minutes(15),
      memorySize: 1024,
      // Parquet files are written to /tmp before upload (the footer comes last).
      ephemeralStorageMiB: 4096,
      description: 'Exports datasets and models to the public bucket after a transform pass',
      maxReceiveCount: 3,
      batchSize: 1,
      maxConcurrency: 2,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;
    new events.Rule(this, 'TransformedRule', {
      eventBus: props.eventBus,
      description: 'dataset.transformed → publish queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [pipelineEvents.datasetTransformed] },
      targets: [new targets.SqsQueue(this.queue.queue)],
    });
    props.grantDatabase(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    // Exports, then the catalog and the portal generated from them.
    for (const prefix of ['exports/*', 'catalog/*', 'portal/*'])
      props.buckets.public.grantPut(this.function, prefix);
    props.buckets.public.grantRead(this.function, 'exports/*');
    props.buckets.internal.grantPut(this.function, 'lineage/*'); // OpenLineage events
  }
}
