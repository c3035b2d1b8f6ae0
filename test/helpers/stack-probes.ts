/** Looks into the deployed stack's queues and runs its monitor, as the e2e and fault tests do. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { localClientConfig, localSqs } from '../../localcloud/aws-clients';
import { readStackOutputs } from './local-cloud';

/**
 * Messages in a queue: visible ones, plus those handed out and not yet deleted when
 * `inFlight` (a queue is drained only when both are 0).
 */
export async function queueDepth(url: string, { inFlight = false } = {}): Promise<number> {
  const { Attributes } = await localSqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    (inFlight ? Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) : 0)
  );
}

/** Invokes the monitor function (the target of its hourly rule) and returns what it found. */
export async function runMonitor(): Promise<{
  stale: string[];
  deadLetters: string[];
  depths: Record<string, number>;
}> {
  const response = await new LambdaClient(localClientConfig()).send(
    new InvokeCommand({ FunctionName: readStackOutputs().MonitorFunctionName, Payload: '{}' }),
  );
  const payload = new TextDecoder().decode(response.Payload);
  if (response.FunctionError) throw new Error(`monitor failed: ${payload}`);
  return JSON.parse(payload);
}
