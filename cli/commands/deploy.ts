import { createInterface } from 'node:readline/promises';
import { cdkArguments, cdkCommand } from '../../localcloud/deploy';
import { run } from '../../localcloud/process';
import { awsLocalEnvironment, projectStateDir } from '../../localcloud/settings';
import { parseArgs } from '../args';
import { loadCheckedProject, projectDirOf, UsageError } from '../project';

const switches = ['yes', 'local', 'multi-az'];

/**
 * Where a deploy goes: AWS with the usual credentials (--profile, --region), or any
 * AWS-compatible endpoint (--endpoint), or the local cloud (--local, for destroy).
 */
function targetEnvironment(flags: Map<string, string | true>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
  if (flags.get('local') === true) return { ...env, ...awsLocalEnvironment() };
  for (const [flag, variable] of [
    ['profile', 'AWS_PROFILE'],
    ['region', 'AWS_REGION'],
    ['endpoint', 'AWS_ENDPOINT_URL'],
  ] as const) {
    const value = flags.get(flag);
    if (value === true) throw new UsageError(`--${flag} needs a value`);
    if (value) env[variable] = value;
  }
  if (env.AWS_REGION) env.AWS_DEFAULT_REGION = env.AWS_REGION;
  return env;
}

/**
 * The database the stack's functions use: one the stack creates (`--database managed`: RDS in a
 * private network behind an RDS Proxy), an existing secret (AWS) or a URL put in a new one.
 */
function databaseContext(flags: Map<string, string | true>): Record<string, string> {
  const kind = flags.get('database');
  if (kind === 'managed') {
    return {
      database: 'managed',
      ...(flags.get('multi-az') === true ? { databaseMultiAz: 'true' } : {}),
      ...contextOf(flags, [
        ['instance-type', 'databaseInstanceType'],
        ['storage-gib', 'databaseStorageGiB'],
        ['egress', 'egress'],
        ['engine', 'databaseEngine'],
        ['min-capacity', 'auroraMinCapacity'],
        ['max-capacity', 'auroraMaxCapacity'],
      ]),
    };
  }
  if (kind !== undefined && kind !== 'external')
    throw new UsageError(`--database ${String(kind)}?`, 'use --database managed, or give an existing one');
  const secret = flags.get('database-secret-arn');
  const url = flags.get('database-url') ?? process.env.DATACYCLE_DATABASE_URL;
  if (typeof secret === 'string' && secret) return { databaseSecretArn: secret };
  if (typeof url === 'string' && url) return { databaseUrl: url };
  throw new UsageError(
    'where is the database? the stack needs one',
    '--database managed (the stack creates RDS PostgreSQL in a private network), or --database-secret-arn <ARN of a Secrets Manager secret with the connection> (or --database-url <postgres://…>)',
  );
}

/**
 * The public endpoints: throttled HTTP APIs by default (`--edge function-url` for a cloud without
 * them), their rates, a custom domain with its certificate, reserved concurrency; the public
 * bucket through CloudFront (`--public-site cloudfront`, `--public-domain`).
 */
function edgeContext(flags: Map<string, string | true>): Record<string, string> {
  return contextOf(flags, [
    ['edge', 'edge'],
    ['certificate-arn', 'certificateArn'],
    ['api-rate-limit', 'apiRateLimit'],
    ['api-burst-limit', 'apiBurstLimit'],
    ['api-domain', 'apiDomain'],
    ['api-reserved-concurrency', 'apiReservedConcurrency'],
    ['push-rate-limit', 'pushRateLimit'],
    ['push-burst-limit', 'pushBurstLimit'],
    ['push-domain', 'pushDomain'],
    ['push-reserved-concurrency', 'pushReservedConcurrency'],
    ['public-site', 'publicSite'],
    ['public-domain', 'publicDomain'],
    ['public-certificate-arn', 'publicCertificateArn'],
  ]);
}

/** The CDK context keys of the flags given (each needs a value). */
function contextOf(
  flags: Map<string, string | true>,
  keys: (readonly [flag: string, key: string])[],
): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [flag, key] of keys) {
    const value = flags.get(flag);
    if (value === true) throw new UsageError(`--${flag} needs a value`);
    if (value) context[key] = value;
  }
  return context;
}

async function confirm(question: string, flags: Map<string, string | true>): Promise<boolean> {
  if (flags.get('yes') === true) return true;
  if (!process.stdin.isTTY)
    throw new UsageError('no terminal to confirm on', 'add --yes to go ahead without asking (CI)');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/**
 * `datacycle deploy [--profile <p>] [--region <r>] [--endpoint <url>] --database-secret-arn <arn>
 * [--api-domain <name> --certificate-arn <arn>] [--api-rate-limit <n>] [--yes]`: the project's stack (the same CDK app as the local cloud) to AWS or any
 * AWS-compatible endpoint: bootstrap if needed, the diff shown, then deployed once confirmed.
 */
export async function deployCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, switches);
  const projectDir = projectDirOf(flags);
  const project = await loadCheckedProject(projectDir);
  const env = targetEnvironment(flags);
  const cdk = cdkCommand();
  const context = cdkArguments(projectDir, {
    ...databaseContext(flags),
    ...edgeContext(flags),
    // R models: the layer that brings R to Lambda (docs/transform.md).
    ...contextOf(flags, [['r-layer-arn', 'rLayerArn']]),
    retainData: 'true',
  });
  const where = env.AWS_ENDPOINT_URL ?? `AWS${env.AWS_PROFILE ? ` (profile ${env.AWS_PROFILE})` : ''}`;
  const cdkRun = (command: string[], quiet = false) =>
    run(cdk.command, [...cdk.args, ...command, ...context], {
      env,
      cwd: projectStateDir(projectDir),
      quiet,
      timeoutMs: 60 * 60_000,
    });
  console.log(`› bootstrapping the CDK environment on ${where} (once per account and region)…`);
  await cdkRun(['bootstrap'], true);
  console.log(`› changes to stack datacycle-${project.config.name}:`);
  await cdkRun(['diff', '--fail=false']);
  if (!(await confirm(`deploy them to ${where}?`, flags))) {
    console.log('nothing deployed');
    return 1;
  }
  await cdkRun(['deploy', '--require-approval', 'never', '--progress', 'events']);
  console.log(`\n✓ datacycle-${project.config.name} deployed to ${where}`);
  console.log('next: npx datacycle status --aws --stack datacycle-' + project.config.name);
  return 0;
}

/**
 * `datacycle destroy [--local | --profile <p> --region <r> | --endpoint <url>] [--yes]`: deletes
 * the project's stack. Its buckets and database are kept on AWS (retained), removed locally.
 */
export async function destroyCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, switches);
  const projectDir = projectDirOf(flags);
  const project = await loadCheckedProject(projectDir);
  const env = targetEnvironment(flags);
  const where = flags.get('local') === true ? 'the local cloud' : (env.AWS_ENDPOINT_URL ?? 'AWS');
  if (!(await confirm(`destroy stack datacycle-${project.config.name} on ${where}?`, flags))) {
    console.log('nothing destroyed');
    return 1;
  }
  const cdk = cdkCommand();
  // The app needs a database to synthesize; a destroy does not use it.
  const context = cdkArguments(projectDir, {
    databaseUrl: 'postgres://destroy',
    retainData: 'true',
    ...(flags.get('local') === true ? { localCloud: 'true' } : {}),
  });
  await run(cdk.command, [...cdk.args, 'destroy', '--force', ...context], {
    env,
    cwd: projectStateDir(projectDir),
    quiet: false,
    timeoutMs: 60 * 60_000,
  });
  console.log(`✓ datacycle-${project.config.name} destroyed on ${where}`);
  return 0;
}
