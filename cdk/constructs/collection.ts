import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';

export type CollectionProps = PipelinePartProps;

/**
 * schedule ──► collect function ──► landing/<dataset>/… (then the ingest path).
 * One EventBridge rule per scheduled source of the data project. Rules, not EventBridge
 * Scheduler: LocalStack's core fires rules but never fires Scheduler schedules.
 */
export class Collection extends Construct {
  readonly function: lambda.Function;
  readonly rules: events.Rule[] = [];
  /** "<dataset>:<source index>" → rule, for operators and tests. */
  readonly rulesBySource: Record<string, events.Rule> = {};

  constructor(scope: Construct, id: string, props: CollectionProps) {
    super(scope, id);
    this.function = new DatacycleFunction(this, 'Collect', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.minutes(10),
      memorySize: 512,
      description: 'Fetches scheduled sources into the landing bucket',
      // The HTTP client retries what is worth retrying; a failure that reaches Lambda is final
      // (recorded, alerted), and an invocation retry would only repeat it.
      retryAttempts: 0,
    }).function;
    props.buckets.landing.grantPut(this.function);
    props.buckets.internal.grantPut(this.function, 'lineage/*'); // OpenLineage events
    props.grantDatabase(this.function);

    // Source credentials: read access to exactly the secrets the project names.
    const secretNames = new Set(
      props.project.datasets.flatMap((dataset) =>
        dataset.config.sources.flatMap((source) =>
          'auth' in source && typeof source.auth === 'object' ? [source.auth.secret] : [],
        ),
      ),
    );
    [...secretNames].forEach((name, index) =>
      secretsmanager.Secret.fromSecretNameV2(this, `SourceSecret${index}`, name).grantRead(this.function),
    );

    for (const dataset of props.project.datasets) {
      dataset.config.sources.forEach((source, index) => {
        if (source.type === 's3' || source.type === 'push') return;
        const rule = new events.Rule(this, `Schedule-${dataset.id}-${index}`, {
          description: `collect ${dataset.id} source #${index} (${source.type === 'udata' ? `udata ${source.dataset}` : source.url})`,
          schedule: events.Schedule.expression(source.schedule),
        });
        rule.addTarget(
          new targets.LambdaFunction(this.function, {
            event: events.RuleTargetInput.fromObject({ dataset: dataset.id, source: index }),
            retryAttempts: 2,
            maxEventAge: Duration.hours(2),
          }),
        );
        this.rules.push(rule);
        this.rulesBySource[`${dataset.id}:${index}`] = rule;
      });
    }
  }
}
