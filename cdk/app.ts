import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadProject } from '@datacycle/core';
import { packageRoot, stageLambdaCode } from './lambda-code';
import type { DatabaseSettingsProps } from './constructs/database-settings';
import { internetNeeds } from './constructs/managed-database';
import { refuseLocalOnlySettings } from './deployment-checks';
import type { EdgeSettings } from './constructs/public-edge';
import { DatacycleStack, defaultRates } from './stack';

/**
 * The CDK app, run by `datacycle up` / `deploy` (bundled as dist/cdk-app.mjs). Context (-c):
 * `project` (folder of the data project), `buildDir` (where its function code is staged,
 * default <project>/.datacycle/build), and the database: `database=managed` (RDS in a private
 * network, with `databaseMultiAz`, `databaseInstanceType`, `databaseStorageGiB`, `egress`,
 * `production`), or `databaseSecretArn` (an existing secret), or `databaseUrl` (stored in a new
 * secret: the local cloud). The public endpoints (`edge=http-api`, the default outside the local
 * cloud): `apiRateLimit`, `apiBurstLimit`, `apiDomain`, `apiReservedConcurrency`, the same with
 * `push`, and `certificateArn` for the domains.
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

new DatacycleStack(app, `datacycle-${project.config.name}`, {
  project,
  database: databaseSettings(),
  edge: edgeSettings(),
  code: stageLambdaCode(project, buildDir),
  retainData,
});
app.synth();
