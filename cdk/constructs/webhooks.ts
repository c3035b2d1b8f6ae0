import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EVENT_SOURCE, pipelineEvents, webhookSecretPrefix } from '@datacycle/core';
import type { PipelinePartProps } from './pipeline-part';
import { QueueConsumer } from './queue-consumer';
import type { QueueWithDlq } from './queue-with-dlq';

/** The Secrets Manager ARN pattern of the project's webhook signing secrets. */
export function webhookSecretsArn(scope: Construct, projectName: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    resourceName: `${webhookSecretPrefix(projectName)}*`,
  });
}

/** Lets a function manage (or only read) the project's webhook signing secrets. */
export function grantWebhookSecrets(fn: lambda.IFunction, projectName: string, manage: boolean): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: manage
        ? [
            'secretsmanager:CreateSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:DeleteSecret',
          ]
        : ['secretsmanager:GetSecretValue'],
      resources: [webhookSecretsArn(fn, projectName)],
    }),
  );
  // Deliveries read their subscribers' secrets twenty at a time; the batch action takes no
  // resource, and returns only the secrets GetSecretValue above is granted on.
  if (!manage)
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:BatchGetSecretValue'], resources: ['*'] }),
    );
}

/**
 * deliveries queue ──► webhook-delivery function ──POST, signed──► subscribers. A message per
 * retry, or a bundle of first attempts sent together: the function enqueues each delivery's
 * next attempt at its time (SQS delays, 15 minutes a hop) and, after the last one, puts the
 * delivery on the DLQ itself.
 */
export class WebhookDeliveries extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelinePartProps) {
    super(scope, id);
    const consumer = new QueueConsumer(this, 'Deliver', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: props.environment,
      // Ten messages in parallel, up to a thousand requests, 200 at a time: 15 s at most each.
      timeout: Duration.seconds(120),
      memorySize: 256,
      description: 'Delivers signed webhooks to subscribers, on a retry schedule',
      // Only an attempt that could not run at all (database down) is received again.
      maxReceiveCount: 5,
      batchSize: 10,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;
    // Ten messages at once, each needing a connection only before and after its requests.
    this.function.addEnvironment('DATABASE_POOL_MAX', '10');
    // The next attempt goes back on its own queue (QUEUE_URL, set by QueueConsumer).
    this.queue.queue.grantSendMessages(this.function);
    props.grantDatabase(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    grantWebhookSecrets(this.function, props.project.config.name, false);
  }
}

export interface WebhookFanOutProps extends PipelinePartProps {
  deliveries: QueueWithDlq;
  /** The read API, for the links of the payloads. */
  apiUrl: string;
}

/**
 * outputs.published and alert events ──rule──► webhook events queue ──► webhook-fanout function
 *   ──► the first attempt of each (event, subscription), in bundles, on the deliveries queue.
 */
export class WebhookFanOut extends Construct {
  readonly queue: QueueWithDlq;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: WebhookFanOutProps) {
    super(scope, id);
    const consumer = new QueueConsumer(this, 'FanOut', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: {
        ...props.environment,
        DELIVERIES_QUEUE_URL: props.deliveries.queue.queueUrl,
        API_URL: props.apiUrl,
      },
      timeout: Duration.seconds(60),
      memorySize: 256,
      description: 'Turns pipeline events into webhook deliveries, one per subscription',
      maxReceiveCount: 5,
      batchSize: 10,
    });
    this.queue = consumer.queue;
    this.function = consumer.function;
    new events.Rule(this, 'EventsRule', {
      eventBus: props.eventBus,
      description: 'outputs.published and alerts → webhook events queue',
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: [pipelineEvents.outputsPublished, pipelineEvents.alert],
      },
      targets: [new targets.SqsQueue(this.queue.queue)],
    });
    props.deliveries.queue.grantSendMessages(this.function);
    props.grantDatabase(this.function);
    // Declared subscriptions get their secret when the function first meets them.
    grantWebhookSecrets(this.function, props.project.config.name, true);
  }
}
