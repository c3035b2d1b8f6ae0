import { Aspects, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { DatabaseRole, Project } from '@datacycle/core';
import { DataBuckets } from './constructs/data-buckets';
import { DatabaseSettings, type DatabaseSettingsProps } from './constructs/database-settings';
import { IngestPipeline } from './constructs/ingest-pipeline';
import { SchemaMigrations } from './constructs/schema-migrations';
import { ScopedWildcards } from './constructs/scoped-wildcards';
import { QueueLongPolling } from './constructs/queue-long-polling';
import { ManagedDatabase } from './constructs/managed-database';
import { Collection } from './constructs/collection';
import { PushEndpoint } from './constructs/push-endpoint';
import type { EdgeSettings } from './constructs/public-edge';
import { Alerting } from './constructs/alerting';
import { TransformPipeline } from './constructs/transform-pipeline';
import type { RunnerCode } from './constructs/model-runners';
import { Monitoring } from './constructs/monitoring';
import { Backups } from './constructs/backups';
import { Publication } from './constructs/publication';
import { PublicSite } from './constructs/public-site';
import { ReadApi } from './constructs/read-api';
import { WebhookDeliveries, WebhookFanOut } from './constructs/webhooks';

export interface DatacycleStackProps extends StackProps {
  project: Project;
  database: DatabaseSettingsProps;
  /** Folders of the bundled code (see bundle.ts). */
  code: { coreLayer: string; functions: Record<string, string>; runners?: RunnerCode };
  /**
   * How the read API and the push endpoint meet the internet: throttled HTTP APIs by default,
   * function URLs on the local cloud.
   */
  edge?: { api: EdgeSettings; push: EdgeSettings };
  /**
   * How the public bucket is served: by S3 to anyone (default), or through a CloudFront
   * distribution with origin access control, optionally under a domain of your own.
   */
  publicSite?: { kind: 'bucket' } | { kind: 'cloudfront'; domain?: { name: string; certificateArn: string } };
  /** Data buckets are kept when the stack is deleted, except for throw-away stacks. */
  retainData?: boolean;
  /**
   * On the local cloud: how long its queue pollers wait for a message (see QueueLongPolling).
   * Unset on AWS, whose pollers long-poll by themselves.
   */
  localQueueLongPollSeconds?: number;
}

/** One datacycle deployment: storage, queues, functions and schedules of one data project. */
export class DatacycleStack extends Stack {
  constructor(scope: Construct, id: string, props: DatacycleStackProps) {
    super(scope, id, props);
    Aspects.of(this).add(new ScopedWildcards());
    if (props.localQueueLongPollSeconds)
      Aspects.of(this).add(new QueueLongPolling(props.localQueueLongPollSeconds));
    const removalPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const buckets = new DataBuckets(this, 'Data', {
      removalPolicy,
      publicReaders: props.publicSite?.kind === 'cloudfront' ? 'cloudfront' : 'anyone',
    });
    const site =
      props.publicSite?.kind === 'cloudfront'
        ? new PublicSite(this, 'PublicSite', {
            bucket: buckets.public,
            removalPolicy,
            domain: props.publicSite.domain,
          })
        : undefined;
    const managed =
      'managed' in props.database
        ? new ManagedDatabase(this, 'ManagedDatabase', props.database.managed)
        : undefined;
    const settings =
      'managed' in props.database ? undefined : new DatabaseSettings(this, 'Database', props.database);
    const coreLayer = new lambda.LayerVersion(this, 'CoreLayer', {
      code: lambda.Code.fromAsset(props.code.coreLayer),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      description: '@datacycle/core: the domain library shared by every function',
    });
    // Alerts (and, later, pipeline events) travel on the project's own bus.
    const eventBus = new events.EventBus(this, 'Events', {
      eventBusName: `datacycle-${props.project.config.name}`,
    });
    const environment = {
      LANDING_BUCKET: buckets.landing.bucketName,
      RAW_BUCKET: buckets.raw.bucketName,
      INTERNAL_BUCKET: buckets.internal.bucketName,
      PUBLIC_BUCKET: buckets.public.bucketName,
      EVENT_BUS_NAME: eventBus.eventBusName,
      ...(site ? { PUBLIC_BASE_URL: site.url } : {}),
    };
    // What every part of the pipeline shares; each adds its own bundle and works with its
    // database role's privileges.
    const part = (name: string) => {
      const role = functionDatabaseRole(name);
      return {
        project: props.project,
        buckets,
        codeDir: codeDir(props, name),
        coreLayer,
        environment: {
          ...environment,
          ...(role ? { DATABASE_ROLE: role } : {}),
          ...(managed ? managed.environmentFor(role) : { DATABASE_SECRET_ARN: settings!.secret.secretArn }),
        },
        grantDatabase: (grantee: iam.IGrantable) =>
          managed ? managed.grantConnect(grantee, role) : settings!.secret.grantRead(grantee),
        network: managed?.network,
        eventBus,
      };
    };
    const migrations = new SchemaMigrations(this, 'Migrations', {
      ...part('migrate'),
      loginSecrets: managed?.loginSecrets,
    });
    // A login is rotated only once the deploy has created it.
    for (const rotation of managed?.loginRotations ?? []) rotation.node.addDependency(migrations.resource);
    const ingest = new IngestPipeline(this, 'IngestPipeline', part('ingest'));
    const collection = new Collection(this, 'Collection', part('collect'));
    const edge = props.edge ?? defaultEdge;
    const push = new PushEndpoint(this, 'PushEndpoint', { ...part('push'), edge: edge.push });
    const alerting = new Alerting(this, 'Alerting', part('notify'));
    const transform = new TransformPipeline(this, 'TransformPipeline', {
      ...part('transform'),
      runners: props.code.runners ?? {},
    });
    const publication = new Publication(this, 'Publication', part('publish'));
    const backups = new Backups(this, 'Backups', part('backup'));
    const deliveries = new WebhookDeliveries(this, 'WebhookDeliveries', part('webhook-delivery'));
    const api = new ReadApi(this, 'ReadApi', {
      ...part('api'),
      deliveries: deliveries.queue,
      edge: edge.api,
    });
    const fanOut = new WebhookFanOut(this, 'WebhookFanOut', {
      ...part('webhook-fanout'),
      deliveries: deliveries.queue,
      apiUrl: api.edge.url,
    });
    const monitoring = new Monitoring(this, 'Monitoring', {
      ...part('monitor'),
      queues: {
        ingest: ingest.queue,
        transform: transform.queue,
        publish: publication.queue,
        alerts: alerting.queue,
        webhooks: fanOut.queue,
        deliveries: deliveries.queue,
      },
      functions: {
        ingest: ingest.function,
        collect: collection.function,
        push: push.function,
        transform: transform.function,
        notify: alerting.function,
        publish: publication.function,
        backup: backups.function,
        api: api.function,
        webhooks: fanOut.function,
        deliver: deliveries.function,
      },
    });
    // Nothing runs against the database before the deploy has migrated it.
    for (const fn of [
      ingest.function,
      collection.function,
      push.function,
      alerting.function,
      transform.function,
      publication.function,
      backups.function,
      api.function,
      fanOut.function,
      deliveries.function,
      monitoring.function,
    ])
      fn.node.addDependency(migrations.resource);
    // The parts that raise alerts.
    eventBus.grantPutEventsTo(ingest.function);
    eventBus.grantPutEventsTo(collection.function);

    const outputs: Record<string, string> = {
      LandingBucket: buckets.landing.bucketName,
      RawBucket: buckets.raw.bucketName,
      InternalBucket: buckets.internal.bucketName,
      PublicBucket: buckets.public.bucketName,
      // Over HTTPS from S3 itself (the buckets refuse plain HTTP), or from the distribution.
      // Every link of the portal is relative, so any host serves it.
      PortalUrl: site
        ? `${site.url}portal/index.html`
        : `https://${buckets.public.bucketRegionalDomainName}/portal/index.html`,
      ...(site
        ? { PublicSiteUrl: site.url, PublicSiteDomainTarget: site.distribution.distributionDomainName }
        : {}),
      IngestQueueUrl: ingest.queue.queue.queueUrl,
      IngestDlqUrl: ingest.queue.deadLetterQueue.queueUrl,
      IngestFunctionName: ingest.function.functionName,
      CollectFunctionName: collection.function.functionName,
      ScheduleRules: JSON.stringify(
        Object.fromEntries(
          Object.entries(collection.rulesBySource).map(([key, rule]) => [key, rule.ruleName]),
        ),
      ),
      PushUrl: push.edge.url,
      PushFunctionName: push.function.functionName,
      PushSecrets: JSON.stringify(
        Object.fromEntries(Object.entries(push.secrets).map(([name, secret]) => [name, secret.secretArn])),
      ),
      ProjectName: props.project.config.name,
      EventBusName: eventBus.eventBusName,
      AlertsQueueUrl: alerting.queue.queue.queueUrl,
      AlertsDlqUrl: alerting.queue.deadLetterQueue.queueUrl,
      NotifyFunctionName: alerting.function.functionName,
      TransformQueueUrl: transform.queue.queue.queueUrl,
      TransformDlqUrl: transform.queue.deadLetterQueue.queueUrl,
      TransformFunctionName: transform.function.functionName,
      ...(transform.runners.python
        ? { PythonModelsFunctionName: transform.runners.python.functionName }
        : {}),
      ...(transform.runners.r ? { RModelsFunctionName: transform.runners.r.functionName } : {}),
      MonitorFunctionName: monitoring.function.functionName,
      BackupFunctionName: backups.function.functionName,
      PublishQueueUrl: publication.queue.queue.queueUrl,
      PublishDlqUrl: publication.queue.deadLetterQueue.queueUrl,
      PublishFunctionName: publication.function.functionName,
      DashboardName: monitoring.dashboard.dashboardName,
      ApiUrl: api.edge.url,
      ApiFunctionName: api.function.functionName,
      ApiKeySecretArn: api.apiKey.secretArn,
      WebhookEventsQueueUrl: fanOut.queue.queue.queueUrl,
      WebhookEventsDlqUrl: fanOut.queue.deadLetterQueue.queueUrl,
      FanOutFunctionName: fanOut.function.functionName,
      DeliveriesQueueUrl: deliveries.queue.queue.queueUrl,
      DeliveriesDlqUrl: deliveries.queue.deadLetterQueue.queueUrl,
      DeliveryFunctionName: deliveries.function.functionName,
      SchemaVersion: migrations.schemaVersion,
      MigrateFunctionName: migrations.function.functionName,
      ...(api.edge.domainTarget ? { ApiDomainTarget: api.edge.domainTarget } : {}),
      ...(push.edge.domainTarget ? { PushDomainTarget: push.edge.domainTarget } : {}),
      ...(managed
        ? {
            DatabaseProxyEndpoint: managed.proxy.endpoint,
            DatabaseOwnerSecretArn: managed.ownerSecret.secretArn,
            DatabaseEndpoint: managed.endpoint,
            DatabaseReaderSecretArn: managed.loginSecrets.reader.secretArn,
            DatabaseReaderClientsSecurityGroup: managed.readerClientsSecurityGroup.securityGroupId,
          }
        : {}),
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}

/**
 * Throttled HTTP APIs: the read API takes 50 requests a second (bursts of 100), the push
 * endpoint 10 (bursts of 20), beyond which callers get 429 and the database is spared.
 */
export const defaultRates = {
  api: { rateLimit: 50, burstLimit: 100 },
  push: { rateLimit: 10, burstLimit: 20 },
} as const;
const defaultEdge: { api: EdgeSettings; push: EdgeSettings } = {
  api: { kind: 'http-api', ...defaultRates.api },
  push: { kind: 'http-api', ...defaultRates.push },
};

/**
 * The database role a function works with (warehouse/roles.ts): migrations run as the owner,
 * the read API as api, backups read, the pipeline loads.
 */
function functionDatabaseRole(name: string): DatabaseRole | undefined {
  if (name === 'migrate') return undefined;
  if (name === 'api') return 'api';
  if (name === 'backup') return 'reader';
  return 'loader';
}

function codeDir(props: DatacycleStackProps, name: string): string {
  const dir = props.code.functions[name];
  if (!dir) throw new Error(`no bundle for function "${name}"`);
  return dir;
}
