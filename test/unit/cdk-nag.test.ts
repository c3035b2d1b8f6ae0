/**
 * cdk-nag's AwsSolutions pack on the synthesized stack: no finding left unacknowledged, and
 * each acknowledgment carries its reason next to the resource (see cdk/constructs). The
 * check can fail: a broad grant added to a function is refused.
 */
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '@datacycle/core';
import { exampleStackInputs } from '../helpers/example-stack';
import type { DatabaseSettingsProps } from '../../cdk/constructs/database-settings';
import { DatacycleStack, type DatacycleStackProps } from '../../cdk/stack';

let project: Project;
let code: Awaited<ReturnType<typeof exampleStackInputs>>['code'];

beforeAll(async () => {
  ({ project, code } = await exampleStackInputs());
}, 120_000);

/** The pack's findings on a stack, after synthesis (when acknowledgments are all in place). */
function findings(
  database: DatabaseSettingsProps,
  change?: (stack: DatacycleStack) => void,
  options: Pick<DatacycleStackProps, 'edge' | 'publicSite'> = {},
) {
  const app = new App();
  const stack = new DatacycleStack(app, 'nag-stack', { project, database, code, ...options });
  change?.(stack);
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.map((violation) => ({
    rule: violation.ruleName,
    severity: violation.severity,
    where: violation.violatingResources.map((resource) => resource.constructPath),
  }));
}

const managed = (production: boolean, internetEgress: boolean): DatabaseSettingsProps => ({
  managed: { projectName: 'territoires', production, internetEgress, multiAz: production },
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['database: managed, production, with a NAT gateway', managed(true, true)],
    ['database: managed, isolated subnets and endpoints', managed(false, false)],
    [
      'database: managed, Aurora Serverless v2',
      {
        managed: {
          projectName: 'territoires',
          production: true,
          internetEgress: true,
          multiAz: true,
          engine: { kind: 'aurora-serverless', minCapacity: 0.5, maxCapacity: 4 },
        },
      } satisfies DatabaseSettingsProps,
    ],
  ])('%s: no unacknowledged error', (_name, database) => {
    expect(findings(database).filter((finding) => finding.severity === 'error')).toEqual([]);
  });

  it('with CloudFront in front of the public bucket and custom domains: no unacknowledged error', () => {
    const certificate = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/abc`;
    const errors = findings(managed(true, true), undefined, {
      publicSite: {
        kind: 'cloudfront',
        domain: { name: 'data.example.org', certificateArn: certificate('us-east-1') },
      },
      edge: {
        api: {
          kind: 'http-api',
          rateLimit: 50,
          burstLimit: 100,
          domain: { name: 'api.data.example.org', certificateArn: certificate('eu-west-3') },
        },
        push: { kind: 'http-api', rateLimit: 10, burstLimit: 20 },
      },
    }).filter((finding) => finding.severity === 'error');
    expect(errors).toEqual([]);
  });

  it('refuses a wildcard grant nobody justified', () => {
    const found = findings(managed(true, true), (stack) => {
      const api = stack.node.findAll().find((node) => node.node.path.endsWith('ReadApi/Api/Role'));
      (api as iam.Role).addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }),
      );
    });
    expect(found.map((finding) => finding.rule)).toEqual(
      expect.arrayContaining(['AwsSolutions-IAM5[Action::dynamodb:*]', 'AwsSolutions-IAM5[Resource::*]']),
    );
  });
});
