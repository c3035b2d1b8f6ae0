/**
 * The public endpoints as synthesized: throttled HTTP APIs with access logs by default (the
 * read API and the push endpoint never reach the database faster than their stage allows),
 * function URLs on the local cloud, a custom domain and reserved concurrency when asked.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '@datacycle/core';
import type { EdgeSettings } from '../../cdk/constructs/public-edge';
import { DatacycleStack, defaultRates, type DatacycleStackProps } from '../../cdk/stack';
import { exampleStackInputs } from '../helpers/example-stack';

let project: Project;
let code: Awaited<ReturnType<typeof exampleStackInputs>>['code'];

function synth(
  edge?: { api: EdgeSettings; push: EdgeSettings },
  publicSite?: DatacycleStackProps['publicSite'],
): Template {
  const stack = new DatacycleStack(new App(), 'edge-stack', {
    project,
    database: { secretArn: 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:datacycle-AbCdEf' },
    code,
    edge,
    publicSite,
  });
  return Template.fromStack(stack);
}

const functionWithDescription = (template: Template, start: string) =>
  Object.entries(template.findResources('AWS::Lambda::Function')).find(([, fn]) =>
    String(fn.Properties.Description).startsWith(start),
  )!;

beforeAll(async () => {
  ({ project, code } = await exampleStackInputs());
}, 120_000);

describe('public endpoints', () => {
  it('by default: an HTTP API per endpoint, throttled, access-logged, no function URL', () => {
    const template = synth();
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: defaultRates.api.rateLimit,
        ThrottlingBurstLimit: defaultRates.api.burstLimit,
      },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: defaultRates.push.rateLimit,
        ThrottlingBurstLimit: defaultRates.push.burstLimit,
      },
    });
    // Every request goes to the function, payload 2.0 (what a function URL gives it too).
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    // The outputs and the webhook links point at the stage.
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toMatch(/execute-api/);
    expect(JSON.stringify(outputs.PushUrl!.Value)).toMatch(/execute-api/);
    const [, fanOut] = functionWithDescription(template, 'Turns pipeline events');
    expect(JSON.stringify(fanOut.Properties.Environment.Variables.API_URL)).toMatch(/execute-api/);
  });

  it('a custom domain (TLS 1.2) replaces the execute-api endpoint; reserved concurrency caps the function', () => {
    const certificateArn = 'arn:aws:acm:eu-west-3:123456789012:certificate/abc';
    const template = synth({
      api: {
        kind: 'http-api',
        rateLimit: 20,
        burstLimit: 40,
        domain: { name: 'api.data.example.org', certificateArn },
        reservedConcurrency: 5,
      },
      push: { kind: 'http-api', rateLimit: 5, burstLimit: 5 },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.data.example.org',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
      ],
    });
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ApiUrl!.Value).toBe('https://api.data.example.org/');
    expect(JSON.stringify(outputs.ApiDomainTarget!.Value)).toMatch(/RegionalDomainName/);
    expect(outputs.PushDomainTarget).toBeUndefined();
    const [, api] = functionWithDescription(template, 'Read API');
    expect(api.Properties.ReservedConcurrentExecutions).toBe(5);
    const [, push] = functionWithDescription(template, 'Receives files');
    expect(push.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('function URLs on the local cloud (no HTTP APIs there)', () => {
    const template = synth({ api: { kind: 'function-url' }, push: { kind: 'function-url' } });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::Lambda::Url', 2);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  it('the public bucket through CloudFront: private bucket, origin access control, links to the distribution', () => {
    const template = synth(undefined, { kind: 'cloudfront' });
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'portal/index.html',
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    // No bucket is open to anyone: the distribution alone reads the public bucket.
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket')))
      expect(bucket.Properties.PublicAccessBlockConfiguration).toMatchObject({
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
    const allowed = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Effect: string; Principal: unknown }[]).filter(
        (statement) => statement.Effect === 'Allow',
      ),
    );
    expect(allowed.map((statement) => JSON.stringify(statement.Principal))).not.toContain('{"AWS":"*"}');
    expect(JSON.stringify(allowed)).toMatch(/cloudfront\.amazonaws\.com/);
    // Links in the catalog and webhook payloads name the distribution.
    const [, publish] = functionWithDescription(template, 'Exports');
    expect(JSON.stringify(publish.Properties.Environment.Variables.PUBLIC_BASE_URL)).toMatch(/DomainName/);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.PortalUrl!.Value)).toMatch(/Distribution.*DomainName/);
  });
});
