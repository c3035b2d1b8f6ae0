/**
 * `database: managed` as synthesized: RDS PostgreSQL in isolated subnets behind an RDS Proxy
 * (TLS and IAM authentication required), every function in the private network, no password
 * in any template or function environment.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '@datacycle/core';
import { functionNames } from '../../cdk/bundle';
import { exampleStackInputs } from '../helpers/example-stack';
import { internetNeeds, type ManagedDatabaseProps } from '../../cdk/constructs/managed-database';
import { DatacycleStack } from '../../cdk/stack';

let project: Project;
let code: Awaited<ReturnType<typeof exampleStackInputs>>['code'];

function synth(managed: ManagedDatabaseProps): Template {
  const stack = new DatacycleStack(new App(), 'managed-stack', { project, database: { managed }, code });
  return Template.fromStack(stack);
}

/** The functions of datacycle (not the ones CDK adds for its own custom resources). */
const datacycleFunctions = (template: Template) =>
  Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, fn]) =>
    JSON.stringify(fn.Properties.Layers ?? []).includes('CoreLayer'),
  );

let production: Template;
let isolated: Template;

beforeAll(async () => {
  ({ project, code } = await exampleStackInputs());
  production = synth({ projectName: 'territoires', internetEgress: true, multiAz: true, production: true });
  isolated = synth({
    projectName: 'territoires',
    internetEgress: false,
    multiAz: false,
    production: false,
    instanceType: 't4g.small',
  });
}, 120_000);

describe('database: managed', () => {
  it('runs PostgreSQL 16 on RDS, encrypted, private, TLS only, with point-in-time recovery', () => {
    production.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^16'),
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
      DBInstanceClass: 'db.t4g.micro',
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
    });
    expect(Object.values(production.findResources('AWS::RDS::DBInstance'))[0]!.DeletionPolicy).toBe(
      'Snapshot',
    );
    production.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { 'rds.force_ssl': '1' },
    });
    isolated.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: false,
      DeletionProtection: false,
      BackupRetentionPeriod: 7,
      DBInstanceClass: 'db.t4g.small',
    });
  });

  it('puts an RDS Proxy in front, requiring TLS and IAM authentication', () => {
    production.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: Match.arrayWith([Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' })]),
    });
  });

  it('runs every function in the private subnets, reaching the proxy with an IAM token', () => {
    const functions = datacycleFunctions(production);
    expect(functions.length).toBe(functionNames().length);
    for (const [, fn] of functions) {
      expect(fn.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
      expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      const environment = fn.Properties.Environment.Variables;
      expect(environment).toMatchObject({
        // Each function logs in as its role; the migrate function (no role) as the owner.
        DATABASE_IAM_USER: environment.DATABASE_ROLE
          ? `datacycle_${environment.DATABASE_ROLE}`
          : 'datacycle_owner',
        DATABASE_NAME: 'datacycle',
        DATABASE_SSL_MODE: 'verify-full',
      });
      expect(environment.DATABASE_HOST).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/Proxy/), 'Endpoint'],
      });
      expect(environment.DATABASE_SECRET_ARN).toBeUndefined();
    }
    const connects = Object.values(production.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes('rds-db:connect'),
    );
    expect(connects.length).toBe(functions.length);
    const users = connects.map((policy) => /"\/(datacycle_\w+)"/.exec(JSON.stringify(policy))?.[1]);
    expect(new Set(users)).toEqual(
      new Set(['datacycle_owner', 'datacycle_loader', 'datacycle_reader', 'datacycle_api']),
    );
    const roles = functions.map(([, fn]) => fn.Properties.Environment.Variables.DATABASE_ROLE);
    expect(roles.filter((role) => role === undefined)).toHaveLength(1); // migrate
    expect(roles.filter((role) => role === 'api')).toHaveLength(1); // the read API
    expect(roles.filter((role) => role === 'reader')).toHaveLength(1); // backups
  });

  it('gives each role a login with its own secret, known to the proxy, rotated once the deploy has created it', () => {
    for (const role of ['loader', 'reader', 'api'])
      production.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: `datacycle/territoires/database/${role}`,
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: `{"username":"datacycle_${role}"}` }),
      });
    const proxy = Object.values(production.findResources('AWS::RDS::DBProxy'))[0]!;
    expect(proxy.Properties.Auth).toHaveLength(4);
    for (const auth of proxy.Properties.Auth) expect(auth).toMatchObject({ IAMAuth: 'REQUIRED' });
    const schedules = production.findResources('AWS::SecretsManager::RotationSchedule');
    expect(Object.keys(schedules)).toHaveLength(4);
    const migrations = Object.keys(production.findResources('Custom::DatacycleSchema'))[0]!;
    const afterMigrations = Object.values(schedules).filter((schedule) =>
      [schedule.DependsOn ?? []].flat().includes(migrations),
    );
    expect(afterMigrations).toHaveLength(3);
    const migrate = datacycleFunctions(production).find(
      ([, fn]) => fn.Properties.Environment.Variables.DATABASE_ROLE === undefined,
    )![1];
    const logins = Object.keys(
      JSON.parse(JSON.stringify(migrate.Properties.Environment.Variables.DATABASE_LOGIN_SECRETS)) as object,
    );
    expect(logins.length).toBeGreaterThan(0);
    // BI tools: a security group of their own reaches the instance (not the proxy).
    production.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('BI tools'),
    });
  });

  it('lets only the functions reach the database, on 5432', () => {
    const ingress = Object.values(production.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.length).toBeGreaterThan(0);
    for (const rule of ingress) {
      // 5432, or the instance's port where CDK opens it to the proxy.
      const port = expect.toBeOneOf([
        5432,
        { 'Fn::GetAtt': [expect.stringMatching(/PostgreSQL/), 'Endpoint.Port'] },
      ]);
      expect(rule.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: port, ToPort: port });
      expect(rule.Properties.SourceSecurityGroupId).toBeDefined();
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
  });

  it('has no password in the template: the owner secret is generated, only the proxy reads it', () => {
    const text = JSON.stringify(production.toJSON());
    expect(text).not.toMatch(/postgres:\/\//);
    for (const secret of Object.values(production.findResources('AWS::SecretsManager::Secret')))
      expect(secret.Properties.SecretString).toBeUndefined();
    production.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"datacycle_owner"}' }),
    });
  });

  it('reaches the internet through one NAT gateway when the project collects sources; else none, with endpoints', () => {
    expect(internetNeeds(project).length).toBeGreaterThan(0);
    production.resourceCountIs('AWS::EC2::NatGateway', 1);
    isolated.resourceCountIs('AWS::EC2::NatGateway', 0);
    isolated.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const services = Object.values(isolated.findResources('AWS::EC2::VPCEndpoint')).map((endpoint) =>
      JSON.stringify(endpoint.Properties.ServiceName),
    );
    for (const service of ['.s3', '.sqs', '.secretsmanager', '.events', '.email'])
      expect(services.some((name) => name.includes(service))).toBe(true);
    // Rejected traffic is logged.
    isolated.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('Aurora Serverless v2 as an option: encrypted cluster, TLS only, a standby with multi-AZ, behind the same proxy', () => {
    const aurora = synth({
      projectName: 'territoires',
      internetEgress: false,
      multiAz: true,
      production: true,
      engine: { kind: 'aurora-serverless', minCapacity: 0, maxCapacity: 8 },
    });
    aurora.resourceCountIs('AWS::RDS::DBCluster', 1);
    aurora.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^16'),
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 8 },
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    aurora.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Parameters: { 'rds.force_ssl': '1' },
    });
    // A writer and a standby, both serverless, neither public.
    const instances = Object.values(aurora.findResources('AWS::RDS::DBInstance'));
    expect(instances).toHaveLength(2);
    for (const instance of instances)
      expect(instance.Properties).toMatchObject({
        DBInstanceClass: 'db.serverless',
        PubliclyAccessible: false,
      });
    aurora.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      DBClusterIdentifiers: [Match.anyValue()],
    });
    expect(Object.values(aurora.findResources('AWS::RDS::DBCluster'))[0]!.DeletionPolicy).toBe('Snapshot');
    // The role logins and their rotation work the same against the cluster.
    expect(Object.keys(aurora.findResources('AWS::SecretsManager::RotationSchedule'))).toHaveLength(4);
    aurora.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/cluster/datacycle-territoires/postgresql',
    });
  });
});
