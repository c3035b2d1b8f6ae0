import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { localClientConfig } from './aws-clients';
import { SetupError, run } from './process';
import {
  awsLocalEnvironment,
  localAccount,
  packageRoot,
  projectStateDir,
  stackOutputsFile,
} from './settings';

export const stackOutputsSchema = z.object({
  LandingBucket: z.string(),
  RawBucket: z.string(),
  InternalBucket: z.string(),
  PublicBucket: z.string(),
  IngestQueueUrl: z.string(),
  IngestDlqUrl: z.string(),
  IngestFunctionName: z.string(),
  CollectFunctionName: z.string(),
  /** JSON: "<dataset>:<source index>" → rule name. */
  ScheduleRules: z.string(),
  PushUrl: z.string(),
  PushFunctionName: z.string(),
  PushSecrets: z.string(),
  ProjectName: z.string(),
  EventBusName: z.string(),
  AlertsQueueUrl: z.string(),
  AlertsDlqUrl: z.string(),
  NotifyFunctionName: z.string(),
  TransformQueueUrl: z.string(),
  TransformDlqUrl: z.string(),
  TransformFunctionName: z.string(),
  PythonModelsFunctionName: z.string().optional(),
  RModelsFunctionName: z.string().optional(),
  MonitorFunctionName: z.string(),
  BackupFunctionName: z.string(),
  PublishQueueUrl: z.string(),
  PublishDlqUrl: z.string(),
  PublishFunctionName: z.string(),
  DashboardName: z.string(),
  PortalUrl: z.string(),
  ApiUrl: z.string(),
  ApiFunctionName: z.string(),
  ApiKeySecretArn: z.string(),
  WebhookEventsQueueUrl: z.string(),
  WebhookEventsDlqUrl: z.string(),
  FanOutFunctionName: z.string(),
  DeliveriesQueueUrl: z.string(),
  DeliveriesDlqUrl: z.string(),
  DeliveryFunctionName: z.string(),
  /** The schema version the deploy's Migrations resource brought the database to ("unknown" on LocalStack, which does not run custom resources). */
  SchemaVersion: z.string(),
  MigrateFunctionName: z.string(),
});
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** The cdk command line (aws-cdk, a dependency of datacycle), run with this Node.js. */
export function cdkCommand(): { command: string; args: string[] } {
  const require = createRequire(import.meta.url);
  return { command: process.execPath, args: [require.resolve('aws-cdk/bin/cdk')] };
}

/**
 * The CDK app, as cdk's --app: the bundle shipped in the package (dist/cdk-app.mjs, made by
 * `npm run build`, which `npm start` and `npm test` run first in a checkout).
 */
export function cdkApp(): string {
  const bundled = path.join(packageRoot, 'dist', 'cdk-app.mjs');
  if (!existsSync(bundled))
    throw new SetupError(
      `datacycle is not built: ${bundled} is missing`,
      'run `npm run build` in the datacycle checkout',
    );
  // cdk runs --app through a shell: datacycle's path must not need quoting (no spaces).
  return `${process.execPath} ${bundled}`;
}

/** How cdk is run for a project: its app, its context, its own cdk.out. */
export function cdkArguments(projectDir: string, context: Record<string, string>): string[] {
  const state = projectStateDir(projectDir);
  mkdirSync(state, { recursive: true });
  return [
    '--app',
    cdkApp(),
    '--output',
    path.join(state, 'cdk.out'),
    '-c',
    `project=${projectDir}`,
    '-c',
    `buildDir=${path.join(state, 'build')}`,
    ...Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
  ];
}

function cdkEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...awsLocalEnvironment(),
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

async function stackExists(name: string): Promise<boolean> {
  const client = new CloudFormationClient(localClientConfig());
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: name }));
    return (Stacks ?? []).some((stack) => !String(stack.StackStatus).startsWith('DELETE'));
  } catch {
    return false;
  }
}

/** cdk bootstrap (once per LocalStack instance) and cdk deploy of the project's stack on LocalStack. */
export async function deployStack(projectDir: string, databaseUrl: string): Promise<StackOutputs> {
  const env = cdkEnvironment();
  const cdk = cdkCommand();
  const context = cdkArguments(projectDir, { databaseUrl, retainData: 'false', localCloud: 'true' });
  const cwd = projectStateDir(projectDir);
  if (!(await stackExists('CDKToolkit'))) {
    await run(cdk.command, [...cdk.args, 'bootstrap', `aws://${localAccount}/us-east-1`, ...context], {
      env,
      cwd,
    }).catch((error: Error) => {
      throw new SetupError(`cdk bootstrap on LocalStack failed: ${error.message}`);
    });
  }
  await run(
    cdk.command,
    [
      ...cdk.args,
      'deploy',
      '--require-approval',
      'never',
      '--outputs-file',
      stackOutputsFile(projectDir),
      '--progress',
      'events',
      ...context,
    ],
    { env, cwd, timeoutMs: 15 * 60_000 },
  ).catch((error: Error) => {
    throw new SetupError(`cdk deploy on LocalStack failed: ${error.message}`);
  });
  return readStackOutputs(projectDir);
}

/** Outputs of a project's stack on the local cloud, as written by its last deploy. */
export function readStackOutputs(projectDir?: string): StackOutputs {
  const file = stackOutputsFile(projectDir);
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new SetupError(`no stack outputs in ${file}`, 'run `datacycle up` in the project first');
  }
  const first = Object.values(all)[0];
  return stackOutputsSchema.parse(first);
}
