import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { localClientConfig } from './aws-clients';
import { SetupError, run } from './process';
import { awsLocalEnvironment, localAccount, repoRoot, stackOutputsFile } from './settings';

const cdk = path.join(repoRoot, 'node_modules', '.bin', 'cdk');

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
  MonitorFunctionName: z.string(),
  BackupFunctionName: z.string(),
  PublishQueueUrl: z.string(),
  PublishDlqUrl: z.string(),
  DashboardName: z.string(),
  PortalUrl: z.string(),
  ApiUrl: z.string(),
  ApiFunctionName: z.string(),
  ApiKeySecretArn: z.string(),
  WebhookEventsQueueUrl: z.string(),
  WebhookEventsDlqUrl: z.string(),
  DeliveriesQueueUrl: z.string(),
  DeliveriesDlqUrl: z.string(),
  DeliverFunctionName: z.string(),
});
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

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

/** cdk bootstrap (once per LocalStack instance) and cdk deploy of the project's stack. */
export async function deployStack(projectDir: string, databaseUrl: string): Promise<StackOutputs> {
  const env = cdkEnvironment();
  const context = [
    '-c',
    `project=${projectDir}`,
    '-c',
    `databaseUrl=${databaseUrl}`,
    '-c',
    'retainData=false',
  ];
  if (!(await stackExists('CDKToolkit'))) {
    await run(cdk, ['bootstrap', `aws://${localAccount}/us-east-1`, ...context], {
      env,
      cwd: repoRoot,
    }).catch((error: Error) => {
      throw new SetupError(`cdk bootstrap on LocalStack failed: ${error.message}`);
    });
  }
  await run(
    cdk,
    [
      'deploy',
      '--require-approval',
      'never',
      '--outputs-file',
      stackOutputsFile,
      '--progress',
      'events',
      ...context,
    ],
    { env, cwd: repoRoot, timeoutMs: 15 * 60_000 },
  ).catch((error: Error) => {
    throw new SetupError(`cdk deploy on LocalStack failed: ${error.message}`);
  });
  return readStackOutputs();
}

/** Outputs of the deployed stack, as written by the last `cdk deploy`. */
export function readStackOutputs(): StackOutputs {
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(readFileSync(stackOutputsFile, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new SetupError(
      `no stack outputs in ${stackOutputsFile}`,
      'run `npm start` (or `npx tsx localcloud/up.ts`) first',
    );
  }
  const first = Object.values(all)[0];
  return stackOutputsSchema.parse(first);
}
