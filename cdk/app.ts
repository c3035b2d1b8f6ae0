import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadProject } from '@datacycle/core';
import { packageRoot, stageLambdaCode } from './lambda-code';
import type { DatabaseSettingsProps } from './constructs/database-settings';
import { internetNeeds, type ManagedDatabaseProps } from './constructs/managed-database';
import { refuseLocalOnlySettings } from './deployment-checks';
import { LOCAL_QUEUE_LONG_POLL_SECONDS } from './constructs/queue-long-polling';
import type { EdgeSettings } from './constructs/public-edge';
import { DatacycleStack, defaultRates, type DatacycleStackProps } from './stack';

/**
 * The CDK app, run by `datacycle up` / `deploy` (bundled as dist/cdk-app.mjs). Context (-c):
 * `project` (folder of the data project), `buildDir` (where its function code is staged,
 * default <project>/.datacycle/build), and the database: `database=managed` (RDS in a private
 * network, with `databaseMultiAz`, `databaseInstanceType`, `databaseStorageGiB`, `egress`,
 * `production`, `databaseEngine=aurora-serverless` with `auroraMinCapacity`/`auroraMaxCapacity`), or `databaseSecretArn` (an existing secret), or `databaseUrl` (stored in a new
 * secret: the local cloud). The public endpoints (`edge=http-api`, the default outside the local
 * cloud): `apiRateLimit`, `apiBurstLimit`, `apiDomain`, `apiReservedConcurrency`, the same with
 * `push`, and `certificateArn` for the domains. The public bucket: `publicSite=cloudfront`, with
 * `publicDomain` and `publicCertificateArn` (us-east-1).
 */
const app = new App();
const projectDir = path.resolve(
  packageRoot,
  String(app.node.tryGetContext('project') ?? 'examples/territoires'),
);
const buildDir = String(app.node.tryGetContext('buildDir') ?? path.join(projectDir, '.datacycle', 'build'));
const loaded = await loadProject(projectDir);
if (!loaded.ok) {
  for (const issue of loaded.issues)
    console.error(`${issue.file}${issue.path ? ` (${issue.path})` : ''}: ${issue.message}`);
  throw new Error(`the data project in ${projectDir} is invalid; run: npx datacycle check ${projectDir}`);
}
const project = loaded.project;
const localCloud = app.node.tryGetContext('localCloud') === 'true';
if (!localCloud) refuseLocalOnlySettings(project);

const context = (name: string) => app.node.tryGetContext(name) as string | undefined;
const retainData = context('retainData') !== 'false';

/** RDS PostgreSQL (default), or Aurora Serverless v2 between auroraMinCapacity and auroraMaxCapacity ACUs. */
function databaseEngine(): NonNullable<ManagedDatabaseProps['engine']> {
  const kind = context('databaseEngine') ?? 'rds';
  if (kind === 'rds') return { kind };
  if (kind !== 'aurora-serverless')
    throw new Error(`context databaseEngine=${kind}: use rds (the default) or aurora-serverless`);
  const capacity = (name: string, fallback: number) => {
    const value = Number(context(name) ?? fallback);
    // Aurora capacity units go by halves, from 0 (paused when idle) to 256.
    if (!Number.isFinite(value) || value < 0 || value > 256 || (value * 2) % 1 !== 0)
      throw new Error(`context ${name}=${context(name)}: Aurora capacity units from 0 to 256, by halves`);
    return value;
  };
  const minCapacity = capacity('auroraMinCapacity', 0.5);
  const maxCapacity = capacity('auroraMaxCapacity', 4);
  if (maxCapacity < Math.max(minCapacity, 1))
    throw new Error('auroraMaxCapacity must be at least 1 and at least auroraMinCapacity');
  return { kind, minCapacity, maxCapacity };
}

/** The database the stack uses: managed (created in a private network), an existing secret, or a URL. */
function databaseSettings(): DatabaseSettingsProps {
  if (context('database') === 'managed') {
    const egress = context('egress');
    if (egress !== undefined && egress !== 'nat' && egress !== 'none')
      throw new Error(`context egress=${egress}: use nat (the functions reach the internet) or none`);
    return {
      managed: {
        projectName: project.config.name,
        internetEgress: egress ? egress === 'nat' : internetNeeds(project).length > 0,
        multiAz: context('databaseMultiAz') === 'true',
        production: context('production') !== 'false' && retainData,
        instanceType: context('databaseInstanceType'),
        allocatedStorageGiB: context('databaseStorageGiB')
          ? Number(context('databaseStorageGiB'))
          : undefined,
        engine: databaseEngine(),
      },
    };
  }
  if (context('database') !== undefined && context('database') !== 'external')
    throw new Error(`context database=${context('database')}: use managed, or external (the default)`);
  const secretArn = context('databaseSecretArn');
  const url = context('databaseUrl') ?? process.env.DATACYCLE_STACK_DATABASE_URL;
  if (secretArn) return { secretArn };
  if (url) return { url };
  throw new Error(
    'where is the database? set context database=managed (created by the stack), databaseSecretArn (an existing one) or databaseUrl (local cloud)',
  );
}

/** Positive whole number from the context, or the default. */
function count(name: string, fallback?: number): number | undefined {
  const value = context(name);
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`context ${name}=${value}: a positive whole number`);
  return Number(value);
}

/** The public endpoints: function URLs on the local cloud, else throttled HTTP APIs (see PublicEdge). */
function edgeSettings(): { api: EdgeSettings; push: EdgeSettings } {
  if (localCloud || context('edge') === 'function-url')
    return { api: { kind: 'function-url' }, push: { kind: 'function-url' } };
  if (context('edge') !== undefined && context('edge') !== 'http-api')
    throw new Error(`context edge=${context('edge')}: use http-api (the default) or function-url`);
  const certificateArn = context('certificateArn');
  const domain = (name: string | undefined) => {
    if (!name) return undefined;
    if (!certificateArn)
      throw new Error(`a custom domain (${name}) needs -c certificateArn=<ACM certificate covering it>`);
    return { name, certificateArn };
  };
  const endpoint = (
    name: 'api' | 'push',
    defaults: { rateLimit: number; burstLimit: number },
  ): EdgeSettings => ({
    kind: 'http-api',
    rateLimit: count(`${name}RateLimit`, defaults.rateLimit)!,
    burstLimit: count(`${name}BurstLimit`, defaults.burstLimit)!,
    domain: domain(context(`${name}Domain`)),
    reservedConcurrency: count(`${name}ReservedConcurrency`),
  });
  return {
    api: endpoint('api', defaultRates.api),
    push: endpoint('push', defaultRates.push),
  };
}

/** The public bucket: served by S3 (default) or, with publicSite=cloudfront, through CloudFront. */
function publicSiteSettings(): DatacycleStackProps['publicSite'] {
  const kind = context('publicSite') ?? 'bucket';
  if (kind === 'bucket') return { kind };
  if (kind !== 'cloudfront')
    throw new Error(`context publicSite=${kind}: use bucket (the default) or cloudfront`);
  if (localCloud) throw new Error('publicSite=cloudfront: the local cloud has no CloudFront');
  const name = context('publicDomain');
  const certificateArn = context('publicCertificateArn');
  if (name && !certificateArn?.includes(':us-east-1:'))
    throw new Error(
      `a domain for the public site (${name}) needs -c publicCertificateArn=<ACM certificate in us-east-1 covering it>`,
    );
  return { kind, domain: name ? { name, certificateArn: certificateArn! } : undefined };
}

/**
 * R models on AWS need a layer that brings R (with jsonlite) to the provided.al2023 runtime
 * (docs/transform.md); the local cloud uses the machine's own R.
 */
function rLayer(): string | undefined {
  const arn = context('rLayerArn');
  if (!arn && !localCloud && project.models.some((model) => model.language === 'r'))
    throw new Error(
      'the project has R models: deploy with --r-layer-arn <ARN of a Lambda layer with R and jsonlite for provided.al2023 on x86_64> (see docs/transform.md)',
    );
  return arn;
}

new DatacycleStack(app, `datacycle-${project.config.name}`, {
  project,
  database: databaseSettings(),
  edge: edgeSettings(),
  publicSite: publicSiteSettings(),
  code: stageLambdaCode(project, buildDir, undefined, { rLayerArn: rLayer() }),
  retainData,
  localQueueLongPollSeconds: localCloud ? LOCAL_QUEUE_LONG_POLL_SECONDS : undefined,
});
app.synth();
