import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EVENT_SOURCE, pipelineEvents } from '@datacycle/core';
import type { PipelinePartProps } from './pipeline-part';
import { QueueConsumer } from './queue-consumer';
import type { QueueWithDlq } from './queue-with-dlq';

/**
 * alert events on the bus ──rule──► alerts queue ──► notify function ──► channels (webhooks, email).
 * Every part raises alerts the same way (raiseAlert: ops.alerts + the bus); this is the one
 * place that routes them, so a new channel or a new consumer is a rule away.
 */
export class Alerting extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelinePartProps) {
    super(scope, id);
    // A channel that stays unreachable parks the alert in the DLQ after three attempts.
    const consumer = new QueueConsumer(this, 'Notify', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      timeout: Duration.seconds(30),
      memorySize: 256,
      description: 'Delivers alerts to the channels of datacycle.yaml',
      maxReceiveCount: 3,
      batchSize: 10,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;
    new events.Rule(this, 'AlertsRule', {
      eventBus: props.eventBus,
      description: 'alert events → alerts queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [pipelineEvents.alert] },
      targets: [new targets.SqsQueue(this.queue.queue)],
    });
    props.grantDatabase(this.function);

    // Email channels: the function may send as the senders the project names, only. Each
    // sender must be a verified SES identity (on AWS: verify it once in SES; the local cloud
    // verifies it at deploy).
    const senders = new Set(
      props.project.config.alerts.channels.flatMap((channel) =>
        channel.type === 'email' ? [channel.from] : [],
      ),
    );
    if (senders.size > 0) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [...senders].map((sender) =>
            Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: sender }),
          ),
        }),
      );
    }
  }
}
