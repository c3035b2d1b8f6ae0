import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';

/** schedule ──► backup function ──► internal bucket backups/<stamp>/ (35 days, by lifecycle rule). */
export class Backups extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelinePartProps) {
    super(scope, id);
    this.function = new DatacycleFunction(this, 'Backup', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.minutes(15),
      memorySize: 1024,
      description: 'Backs up the raw, enriched and ops schemas to the internal bucket',
      retryAttempts: 1,
    }).function;
    props.grantDatabase(this.function);
    props.buckets.internal.grantPut(this.function, 'backups/*');
    new events.Rule(this, 'Schedule', {
      description: 'database backup',
      schedule: events.Schedule.expression(props.project.config.backups.schedule),
      targets: [new targets.LambdaFunction(this.function)],
    });
  }
}
