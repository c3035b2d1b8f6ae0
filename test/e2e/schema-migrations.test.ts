/**
 * Migrations on deploy, on the local cloud: the deployed migrate function answers the custom
 * resource protocol CloudFormation speaks (LocalStack's community CloudFormation does not run
 * custom resources; `up` sends it the same request): an update migrates (idempotent) and says
 * the version, a delete keeps the database.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requiredSchemaVersion } from '@datacycle/core';
import { localClientConfig } from '../../localcloud/aws-clients';
import { readStackOutputs, testPool } from '../helpers/local-cloud';
import { recordRequests } from '../helpers/request-recorder';

const outputs = readStackOutputs();
const pool = testPool();
let recorder: Awaited<ReturnType<typeof recordRequests>>;
let responseUrl = '';

beforeAll(async () => {
  recorder = await recordRequests();
  responseUrl = recorder.url;
});
afterAll(async () => {
  await recorder.close();
  await pool.end();
});

async function send(requestType: 'Create' | 'Update' | 'Delete') {
  const request = {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/datacycle-test/1',
    RequestId: `request-${requestType}`,
    LogicalResourceId: 'MigrationsSchema',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'datacycle-schema' }),
    ResourceType: 'Custom::DatacycleSchema',
    ResourceProperties: { SchemaVersion: String(requiredSchemaVersion()) },
  };
  const response = await new LambdaClient(localClientConfig()).send(
    new InvokeCommand({ FunctionName: outputs.MigrateFunctionName, Payload: JSON.stringify(request) }),
  );
  if (response.FunctionError) throw new Error(new TextDecoder().decode(response.Payload));
  return recorder.requests.at(-1)!;
}

describe('migrations on deploy', () => {
  it('answers CloudFormation: an update migrates (nothing left to apply) and says the version', async () => {
    const answer = await send('Update');
    expect(answer.method).toBe('PUT');
    expect(answer.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'datacycle-schema',
      RequestId: 'request-Update',
      LogicalResourceId: 'MigrationsSchema',
      Data: { SchemaVersion: String(requiredSchemaVersion()), Applied: '0' },
    });
  });

  it('keeps the database when the stack is deleted', async () => {
    const answer = await send('Delete');
    expect(answer.body).toMatchObject({ Status: 'SUCCESS', Reason: 'the database and its schema are kept' });
    const { rows } = await pool.query<{ version: number }>(
      'SELECT max(version)::int AS version FROM ops.schema_migrations',
    );
    expect(rows[0]!.version).toBe(requiredSchemaVersion());
  });
});
