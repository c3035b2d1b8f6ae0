import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { localClientConfig } from '../localcloud/aws-clients';
import { readStackOutputs, stackOutputsSchema, type StackOutputs } from '../localcloud/deploy';
import { projectDirOf } from './project';

/** A deployed stack the CLI talks to: its outputs, and the client settings to reach it. */
export interface DeployedStack {
  outputs: StackOutputs;
  clientConfig: object;
}

/**
 * The local cloud's stack by default; with `--aws --stack <name>`, a stack on AWS (credentials
 * and region from the usual AWS environment).
 */
export async function deployedStack(flags: Map<string, string | true>): Promise<DeployedStack> {
  if (flags.get('aws') !== true)
    return { outputs: readStackOutputs(projectDirOf(flags)), clientConfig: localClientConfig() };
  const name = flags.get('stack');
  if (typeof name !== 'string' || !name)
    throw new Error('--aws needs --stack <stack name> (datacycle-<project>)');
  const { Stacks } = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: name }));
  const outputs = Object.fromEntries(
    (Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  return { outputs: stackOutputsSchema.parse(outputs), clientConfig: {} };
}

/** The stack's queues by the names operators use: their URL and their DLQ's. */
export function pipelineQueues(outputs: StackOutputs): Record<string, { url: string; dlq: string }> {
  return {
    ingest: { url: outputs.IngestQueueUrl, dlq: outputs.IngestDlqUrl },
    transform: { url: outputs.TransformQueueUrl, dlq: outputs.TransformDlqUrl },
    publish: { url: outputs.PublishQueueUrl, dlq: outputs.PublishDlqUrl },
    alerts: { url: outputs.AlertsQueueUrl, dlq: outputs.AlertsDlqUrl },
    // Webhook events not fanned out (deliveries that failed are replayed: `datacycle webhooks replay`).
    webhooks: { url: outputs.WebhookEventsQueueUrl, dlq: outputs.WebhookEventsDlqUrl },
  };
}
