import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { Project } from '@datacycle/core';
import { DatacycleFunction } from './datacycle-function';
import type { PipelinePartProps } from './pipeline-part';
import type { QueueWithDlq } from './queue-with-dlq';

export interface MonitoringProps extends PipelinePartProps {
  /** The pipeline's queues by name (ingest, transform, alerts). */
  queues: Record<string, QueueWithDlq>;
  /** The pipeline's functions by name, for the dashboard and error alarms. */
  functions: Record<string, lambda.IFunction>;
}

/**
 * schedule (hourly) ──► monitor function ──► alerts: stale datasets, dead letters.
 * Plus, for operators on AWS: CloudWatch alarms on every DLQ and function errors, and one
 * dashboard of queue depths, errors and durations.
 */
export class Monitoring extends Construct {
  readonly function: lambda.Function;
  readonly rule: events.Rule;
  readonly dashboard: cloudwatch.Dashboard;
  /** Where the CloudWatch alarms go: the e-mail addresses of the project's email alert channels. */
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const watched = Object.entries(props.queues).filter(([name]) => name !== 'alerts');
    this.function = new DatacycleFunction(this, 'Monitor', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: {
        ...props.environment,
        DEAD_LETTER_QUEUES: JSON.stringify(
          Object.fromEntries(watched.map(([name, queue]) => [name, queue.deadLetterQueue.queueUrl])),
        ),
      },
      timeout: Duration.minutes(2),
      memorySize: 256,
      description: 'Checks freshness and dead-letter queues, raises alerts',
      retryAttempts: 0,
    }).function;
    props.grantDatabase(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    for (const [, queue] of watched) queue.deadLetterQueue.grant(this.function, 'sqs:GetQueueAttributes');
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'hourly health check: stale datasets, dead letters',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    // The alarms reach people even when the pipeline's own alerting is what broke.
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: `datacycle ${props.project.config.name} alarms`,
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    for (const address of alarmRecipients(props.project))
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(address));
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);
    for (const [name, queue] of Object.entries(props.queues)) {
      new cloudwatch.Alarm(this, `DeadLetters-${name}`, {
        alarmDescription: `messages in the ${name} dead-letter queue: see datacycle status, then datacycle redrive ${name}`,
        metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      new cloudwatch.Alarm(this, `Errors-${name}`, {
        alarmDescription: `the ${name} function fails: see its logs`,
        metric: fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `datacycle-${props.project.config.name}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Queue depth',
            left: Object.entries(props.queues).map(([name, queue]) =>
              queue.queue.metricApproximateNumberOfMessagesVisible({ label: name }),
            ),
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead letters',
            left: Object.entries(props.queues).map(([name, queue]) =>
              queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: name }),
            ),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            left: Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ label: name })),
          }),
          new cloudwatch.GraphWidget({
            title: 'Function duration (p95)',
            left: Object.entries(props.functions).map(([name, fn]) =>
              fn.metricDuration({ label: name, statistic: 'p95' }),
            ),
          }),
        ],
      ],
    });
  }
}

/** The addresses of the project's email alert channels (alerts.channels), each once. */
export function alarmRecipients(project: Pick<Project, 'config'>): string[] {
  const addresses = project.config.alerts.channels.flatMap((channel) =>
    channel.type === 'email' ? (Array.isArray(channel.to) ? channel.to : [channel.to]) : [],
  );
  return [...new Set(addresses)];
}
