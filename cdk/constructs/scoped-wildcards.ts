import { Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * The wildcards datacycle's function roles may hold, each with why. A policy statement's
 * wildcard that matches none of these is left for cdk-nag (AwsSolutions-IAM5) to refuse: a
 * broader grant added one day fails the stack's tests instead of passing unseen.
 */
const allowedWildcards: { pattern: RegExp; reason: string }[] = [
  {
    pattern: /^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObject)\*$/,
    reason:
      "the action families of CDK's bucket grants (read, put, delete), on this stack's buckets and prefixes only",
  },
  {
    pattern: /^Resource::<Data\w+\.Arn>\/[\w/.-]*\*$/,
    reason: "objects under one prefix of one of this stack's buckets (S3 names objects by ARN/prefix/*)",
  },
  {
    pattern:
      /^Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:datacycle\/[\w-]+\/webhooks\/\*$/,
    reason:
      "the project's webhook signing secrets, one per subscription created at run time under the project's prefix",
  },
  {
    pattern: /^Resource::\*$/,
    reason:
      'only with the ec2 network-interface actions Lambda needs in a VPC, or secretsmanager:BatchGetSecretValue, ' +
      'which take no narrower resource (a batch reads only the secrets GetSecretValue is granted on)',
  },
];

/** What Lambda does with a function's network interfaces in a VPC (it takes no resource narrower than *). */
export const NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
/** Actions that take no resource narrower than `*`: Lambda's network interfaces, batch secret reads. */
const anyResourceActions = new Set([...NETWORK_INTERFACE_ACTIONS, 'secretsmanager:BatchGetSecretValue']);

/** A CloudFormation value as one string, references in angle brackets (cdk-nag's finding names). */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Ref' in node) return `<${flatten(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

interface Statement {
  Effect: string;
  Action: unknown;
  Resource: unknown;
}

/**
 * Acknowledges, on each policy of a datacycle function's role, the wildcards of the allowed
 * kinds above, each with its reason; a `*` resource only for actions that take no other.
 */
export class ScopedWildcards implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy) || !node.node.path.includes('/Role/')) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
    const allows = (document.Statement ?? []).filter((statement) => statement.Effect === 'Allow');
    // cdk-nag names a finding per policy, not per statement: `*` is acknowledged only if every
    // statement holding it has only actions that take no narrower resource.
    const anyResourceOk = allows
      .filter((statement) => list(statement.Resource).includes('*'))
      .every((statement) => list(statement.Action).every((action) => anyResourceActions.has(String(action))));
    for (const statement of allows) {
      const actions = list(statement.Action).map(String);
      const findings = [
        ...actions.filter((action) => action.includes('*')).map((action) => `Action::${action}`),
        ...list(statement.Resource)
          .map(flatten)
          .filter((resource) => resource.includes('*'))
          .map((resource) => `Resource::${resource}`),
      ];
      for (const finding of findings) {
        if (finding === 'Resource::*' && !anyResourceOk) continue;
        const allowed = allowedWildcards.find((wildcard) => wildcard.pattern.test(finding));
        if (allowed)
          Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: allowed.reason });
      }
    }
  }
}
