import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { PipelinePartProps } from './pipeline-part';
import { QueueConsumer } from './queue-consumer';
import type { QueueWithDlq } from './queue-with-dlq';

export type IngestPipelineProps = PipelinePartProps;

/** landing/ ──S3 event──► ingest queue ──► ingest function ──► PostgreSQL, raw/, reports/, quarantine/ */
export class IngestPipeline extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const { memoryMb, timeoutMinutes } = props.project.config.ingest;
    const consumer = new QueueConsumer(this, 'Ingest', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.minutes(timeoutMinutes),
      memorySize: memoryMb,
      ephemeralStorageMiB: 4096,
      description: 'Validates files dropped in landing/ and loads them into PostgreSQL',
      batchSize: 5,
      maxConcurrency: 5,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;

    const { landing, raw, internal } = props.buckets;
    props.buckets.notifyObjectCreated(this.queue.queue);

    // Least privilege: read and clear the inbox, write immutable copies, reports and quarantine.
    landing.grantRead(this.function);
    landing.grantDelete(this.function);
    raw.grantRead(this.function);
    raw.grantPut(this.function);
    internal.grantPut(this.function, 'reports/*');
    internal.grantPut(this.function, 'quarantine/*');
    internal.grantPut(this.function, 'lineage/*'); // OpenLineage events
    props.grantDatabase(this.function);
  }
}
