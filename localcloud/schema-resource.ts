/**
 * The stack's Migrations custom resource, run on the local cloud the way CloudFormation runs
 * it on AWS: LocalStack's community CloudFormation does not run custom resources, so `up`
 * sends the migrate function the request CloudFormation would, with a pre-signed-like URL of
 * its own, and waits for the answer.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { requiredSchemaVersion } from '@datacycle/core';
import { localClientConfig } from './aws-clients';
import type { StackOutputs } from './deploy';
import { SetupError } from './process';

interface Answer {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  Data?: { SchemaVersion?: string; Applied?: string };
}

export async function runSchemaResource(
  outputs: Pick<StackOutputs, 'MigrateFunctionName'>,
  stackName: string,
): Promise<{ schemaVersion: number; applied: number }> {
  let received: (answer: Answer) => void = () => undefined;
  const answered = new Promise<Answer>((resolve) => (received = resolve));
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(200).end();
      received(JSON.parse(Buffer.concat(chunks).toString()) as Answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const request = {
      RequestType: 'Create',
      ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`,
      StackId: `arn:aws:cloudformation:us-east-1:000000000000:stack/${stackName}/local`,
      RequestId: randomUUID(),
      LogicalResourceId: 'MigrationsSchema',
      ResourceType: 'Custom::DatacycleSchema',
      ResourceProperties: { SchemaVersion: String(requiredSchemaVersion()) },
    };
    const invoked = await new LambdaClient(localClientConfig()).send(
      new InvokeCommand({ FunctionName: outputs.MigrateFunctionName, Payload: JSON.stringify(request) }),
    );
    if (invoked.FunctionError)
      throw new SetupError(
        `the migrate function failed: ${new TextDecoder().decode(invoked.Payload)}`,
        'see its log: npx datacycle logs migrate',
      );
    const answer = await Promise.race([
      answered,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new SetupError('the migrate function did not answer within 10 minutes')),
          600_000,
        ).unref(),
      ),
    ]);
    if (answer.Status !== 'SUCCESS')
      throw new SetupError(
        `the schema migration failed: ${answer.Reason ?? 'no reason given'}`,
        'npx datacycle logs migrate',
      );
    return { schemaVersion: Number(answer.Data?.SchemaVersion), applied: Number(answer.Data?.Applied) };
  } finally {
    server.close();
  }
}
