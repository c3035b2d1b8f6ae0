import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '@datacycle/core';
import { bundleCoreLayer, bundleFunction, functionNames } from '../../cdk/bundle';
import { DatacycleStack } from '../../cdk/stack';

const root = path.resolve(import.meta.dirname, '../..');
let template: Template;

beforeAll(async () => {
  const loaded = await loadProject(path.join(root, 'examples/territoires'));
  if (!loaded.ok) throw new Error('example project should be valid');
  const functions = Object.fromEntries(
    functionNames().map((name) => [name, bundleFunction(name, loaded.project)]),
  );
  const app = new App();
  const stack = new DatacycleStack(app, 'test-stack', {
    project: loaded.project,
    database: { url: 'postgres://u@db:5432/d' },
    code: { coreLayer: bundleCoreLayer(), functions },
  });
  template = Template.fromStack(stack);
}, 60_000);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const statementsOf = (policies: Record<string, Record<string, unknown>>): Statement[] =>
  Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );

describe('DatacycleStack', () => {
  it('gives the ingest function one full vCPU (1769 MB) and its timeout, from the project', () => {
    const ingest = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
      String(fn.Properties.Description).startsWith('Validates files dropped in landing/'),
    );
    expect(ingest?.Properties).toMatchObject({ MemorySize: 1769, Timeout: 300 });
  });

  it('encrypts every bucket, versions raw, and blocks public access except on the public bucket', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    // landing, raw, internal, public, and the access logs of the four.
    expect(Object.keys(buckets)).toHaveLength(5);
    for (const [id, bucket] of Object.entries(buckets))
      if (!id.startsWith('DataAccessLogs'))
        expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({
          Ref: expect.stringMatching(/^DataAccessLogs/),
        });
    for (const bucket of Object.values(buckets)) {
      expect(
        bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm,
      ).toBe('AES256');
    }
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'backups/', ExpirationInDays: 35 })]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'PublicReadOfPublishedData',
            Action: 's3:GetObject',
            Principal: { AWS: '*' },
          }),
        ]),
      },
    });
  });

  it('sends landing ObjectCreated events to the ingest queue, which has a DLQ', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Event: 's3:ObjectCreated:*',
            Queue: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestQueue'), 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
      VisibilityTimeout: 1800,
    });
  });

  it('runs the ingest function on Node.js 24 with the core layer, fed by SQS with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Layers: [{ Ref: Match.stringLikeRegexp('CoreLayer') }],
      Environment: {
        Variables: Match.objectLike({
          DATABASE_SECRET_ARN: { Ref: Match.stringLikeRegexp('DatabaseSecret') },
          // Peak memory of large exports, CPU of large reads (see FUNCTION_ENVIRONMENT).
          MALLOC_MMAP_THRESHOLD_: '1048576',
          NODE_OPTIONS: '--max-semi-space-size=16',
          UV_USE_IO_URING: '0',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 5,
    });
    // On AWS the pollers long-poll by themselves: no window but the transform pass's coalescing.
    const windows = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (mapping) => mapping.Properties.MaximumBatchingWindowInSeconds !== undefined,
    );
    expect(windows).toHaveLength(1);
    expect(windows[0]!.Properties.BatchSize).toBe(100);
  });

  it('creates one EventBridge rule per scheduled source, targeting the collect function with its input', () => {
    const scheduled = Object.values(
      template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } }),
    ) as { Properties: { Targets: { Arn: { 'Fn::GetAtt': string[] } }[] } }[];
    const targets = scheduled.map((rule) => rule.Properties.Targets[0]!.Arn['Fn::GetAtt'][0]);
    // Four scheduled sources in the example, and the hourly health check.
    expect(targets.filter((target) => /Collect/.test(target!))).toHaveLength(4);
    expect(targets.filter((target) => /Monitor/.test(target!))).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CollectFunction'), 'Arn'] },
          Input: JSON.stringify({ dataset: 'departements', source: 0 }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
  });

  it('routes alert events from the project bus to the alerts queue, read by the notify function', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'datacycle-territoires' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: ['datacycle'], 'detail-type': ['datacycle.alert'] },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlertingNotifyQueue'), 'Arn'] } }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlertingNotifyQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // The collect function is not retried by Lambda: its failures are final, recorded and alerted.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('watches every dead-letter queue with an alarm, and draws one dashboard', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { MetricName: string };
    }[];
    // ingest, transform, publish, alerts, webhook events, deliveries; and the errors of each of
    // the ten functions but monitor.
    expect(
      alarms.filter((alarm) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible'),
    ).toHaveLength(6);
    expect(alarms.filter((alarm) => alarm.Properties.MetricName === 'Errors')).toHaveLength(10);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it("sends every alarm to an encrypted SNS topic, mailed to the project's email alert channels", () => {
    const topic = Object.values(template.findResources('AWS::SNS::Topic'))[0]!;
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toContain('alias/aws/sns');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'equipe-data@example.org',
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(16);
    for (const alarm of alarms)
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarms/) }]);
  });

  it('backs up nightly into the internal bucket, writing only under backups/', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Backup'), 'Arn'] } })],
    });
    const policies = JSON.stringify(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('Backup') },
      }),
    );
    expect(policies).toContain('/backups/*');
    expect(policies).not.toContain('s3:DeleteObject');
  });

  it('grants no wildcard resources to the functions', () => {
    const statements = statementsOf(template.findResources('AWS::IAM::Policy'));
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const resources = ([] as unknown[]).concat(statement.Resource);
      // Except the batch secret read, which takes no resource (and reads only the secrets
      // GetSecretValue is granted on).
      if (([] as string[]).concat(statement.Action).join() === 'secretsmanager:BatchGetSecretValue') continue;
      expect(resources).not.toContain('*');
    }
    // The ingest function may write reports and quarantine, not the whole internal bucket.
    const internalPuts = statements.filter(
      (s) =>
        ([] as string[]).concat(s.Action).includes('s3:PutObject') &&
        JSON.stringify(s.Resource).includes('Internal'),
    );
    expect(JSON.stringify(internalPuts)).toContain('/reports/*');
    expect(JSON.stringify(internalPuts)).toContain('/quarantine/*');
    expect(JSON.stringify(internalPuts)).not.toMatch(/Internal[^"]*"\s*,\s*"\/\*"/);
  });

  it('keeps the database connection in Secrets Manager, readable by the ingest function', () => {
    // The database connection, the generated push secret of irve-statique, the API key.
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true },
    });
    // Webhook signing secrets: managed by the API and fan-out functions, under the project's prefix only.
    const secretStatements = statementsOf(template.findResources('AWS::IAM::Policy')).filter((s) =>
      ([] as string[]).concat(s.Action).includes('secretsmanager:CreateSecret'),
    );
    expect(secretStatements).toHaveLength(2);
    for (const statement of secretStatements)
      expect(JSON.stringify(statement.Resource)).toContain(':secret:datacycle/territoires/webhooks/*');
    const statements = statementsOf(template.findResources('AWS::IAM::Policy'));
    expect(
      statements.some((s) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue')),
    ).toBe(true);
  });
});
