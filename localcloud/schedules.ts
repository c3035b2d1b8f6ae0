import { EventBridgeClient, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { localClientConfig } from './aws-clients';

/**
 * Fires a deployed schedule now: reads the rule's target and input from EventBridge and
 * invokes the target asynchronously with that input, as EventBridge does when the rule fires.
 */
export async function fireSchedule(ruleName: string): Promise<void> {
  const events = new EventBridgeClient(localClientConfig());
  const lambda = new LambdaClient(localClientConfig());
  const { Targets } = await events.send(new ListTargetsByRuleCommand({ Rule: ruleName }));
  for (const target of Targets ?? []) {
    await lambda.send(
      new InvokeCommand({ FunctionName: target.Arn, InvocationType: 'Event', Payload: target.Input ?? '{}' }),
    );
  }
}
