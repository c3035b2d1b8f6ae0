import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';
import { QueueWithDlq } from './queue-with-dlq';

export type IngestPipelineProps = PipelinePartProps;

/** landing/ ──S3 event──► ingest queue ──► ingest function ──► PostgreSQL, raw/, reports/, quarantine/ */
export class IngestPipeline extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const timeout = Duration.minutes(5);
    this.function = new DatacycleFunction(this, 'Ingest', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      environment: props.environment,
      timeout,
      memorySize: 1024,
      ephemeralStorageMiB: 4096,
      description: 'Validates files dropped in landing/ and loads them into PostgreSQL',
    }).function;
    this.queue = new QueueWithDlq(this, 'IngestQueue', {
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
    });

    const { landing, raw, internal } = props.buckets;
    props.buckets.notifyObjectCreated(this.queue.queue);
    this.function.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize: 5,
        reportBatchItemFailures: true,
        maxConcurrency: 5,
      }),
    );

    // Least privilege: read and clear the inbox, write immutable copies, reports and quarantine.
    landing.grantRead(this.function);
    landing.grantDelete(this.function);
    raw.grantRead(this.function);
    raw.grantPut(this.function);
    internal.grantPut(this.function, 'reports/*');
    internal.grantPut(this.function, 'quarantine/*');
    props.grantDatabase(this.function);
  }
}
