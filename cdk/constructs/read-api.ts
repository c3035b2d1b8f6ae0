import { Duration, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatacycleFunction } from './datacycle-function';
import { PublicEdge, type EdgeSettings } from './public-edge';
import type { PipelinePartProps } from './pipeline-part';
import type { QueueWithDlq } from './queue-with-dlq';
import { grantWebhookSecrets } from './webhooks';

export interface ReadApiProps extends PipelinePartProps {
  deliveries: QueueWithDlq;
  edge: EdgeSettings;
}

/**
 * client ──GET /datasets/…/rows, /runs, /openapi.json…──► HTTP API (throttled) or function URL ──► api function
 *   ──► PostgreSQL (read-only transactions, statement timeout). Subscriptions need the API
 *   key, a generated secret.
 */
export class ReadApi extends Construct {
  readonly function: lambda.Function;
  /** Where it meets the internet: its base URL, and a custom domain's DNS target. */
  readonly edge: PublicEdge;
  readonly apiKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    this.apiKey = new secretsmanager.Secret(this, 'ApiKey', {
      description: 'datacycle API key: manages webhook subscriptions (Authorization: Bearer <key>)',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    this.function = new DatacycleFunction(this, 'Api', {
      codeDir: props.codeDir,
      coreLayer: props.coreLayer,
      network: props.network,
      environment: {
        ...props.environment,
        API_KEY_SECRET_ARN: this.apiKey.secretArn,
        DELIVERIES_QUEUE_URL: props.deliveries.queue.queueUrl,
      },
      timeout: Duration.seconds(15),
      memorySize: 512,
      description: 'Read API (datasets, rows, runs, OpenAPI) and webhook subscriptions',
    }).function;
    this.edge = new PublicEdge(this, 'Edge', {
      function: this.function,
      settings: props.edge,
      openBecause:
        'a public read API (open data); its write routes check the API key themselves, and the stage throttles every caller',
    });
    this.apiKey.grantRead(this.function);
    Validations.of(this.apiKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'the API key is given to the people who manage subscriptions; it is rotated by an operator ' +
        '(docs/aws.md: put a new value, which the API reads within five minutes), not on a schedule',
    });
    props.grantDatabase(this.function);
    props.buckets.public.grantRead(this.function, 'catalog/*');
    props.deliveries.queue.grantSendMessages(this.function);
    grantWebhookSecrets(this.function, props.project.config.name, true);
  }
}
