/**
 * The stack's Migrations custom resource handler against real databases: a create on an empty
 * database applies every migration and answers CloudFormation with the version; a migration
 * that fails answers FAILED with the reason (the deploy then rolls back); a delete keeps all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  handleSchemaResource,
  migrations,
  requiredSchemaVersion,
  type CustomResourceRequest,
} from '@datacycle/core';
import { ownDatabase, testPool, uniqueName } from '../helpers/local-cloud';
import { recordRequests } from '../helpers/request-recorder';

const admin = testPool();
let recorder: Awaited<ReturnType<typeof recordRequests>>;
let responseUrl = '';
const databases: string[] = [];

beforeAll(async () => {
  recorder = await recordRequests();
  responseUrl = recorder.url;
});
afterAll(async () => {
  await recorder.close();
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.end();
});

const request = (requestType: CustomResourceRequest['RequestType']): CustomResourceRequest => ({
  RequestType: requestType,
  ResponseURL: responseUrl,
  StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/datacycle-test/1',
  RequestId: `request-${uniqueName(requestType)}`,
  LogicalResourceId: 'MigrationsSchema',
  PhysicalResourceId: requestType === 'Create' ? undefined : 'datacycle-schema',
  ResourceProperties: { SchemaVersion: String(requiredSchemaVersion()) },
});

async function freshDatabase() {
  const name = `datacycle_${uniqueName('schema').replace('-', '_')}`;
  databases.push(name);
  return ownDatabase(name);
}

describe('the Migrations custom resource', () => {
  it('create on an empty database: every migration applied, the version answered', async () => {
    const pool = await freshDatabase();
    const log = createLogger({ function: 'migrate' });
    const outcome = await handleSchemaResource(request('Create'), { pool: async () => pool, log });
    expect(outcome).toEqual({ status: 'SUCCESS', schemaVersion: requiredSchemaVersion() });
    expect(recorder.requests.at(-1)).toMatchObject({
      body: {
        Status: 'SUCCESS',
        PhysicalResourceId: 'datacycle-schema',
        Data: { SchemaVersion: String(requiredSchemaVersion()), Applied: String(migrations.length) },
      },
    });
    const { rows } = await pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM ops.schema_migrations',
    );
    expect(rows[0]!.count).toBe(migrations.length);
    // Run again (an update): nothing left to apply.
    await handleSchemaResource(request('Update'), { pool: async () => pool, log });
    expect(recorder.requests.at(-1)!.body).toMatchObject({ Status: 'SUCCESS', Data: { Applied: '0' } });
    await pool.end();
  });

  it('a migration that fails answers FAILED with which one and why', async () => {
    const pool = await freshDatabase();
    // Something in the way of the first migration: a table ops.files of another shape.
    await pool.query('CREATE SCHEMA ops; CREATE VIEW ops.files AS SELECT 1 AS id');
    const outcome = await handleSchemaResource(request('Update'), {
      pool: async () => pool,
      log: createLogger({ function: 'migrate' }),
    });
    expect(outcome.status).toBe('FAILED');
    expect(recorder.requests.at(-1)!.body.Status).toBe('FAILED');
    expect(String(recorder.requests.at(-1)!.body.Reason)).toMatch(
      /^migration failed: migration 1 \(.+\) failed: /,
    );
    await pool.end();
  });

  it('delete answers at once and keeps the database', async () => {
    const outcome = await handleSchemaResource(request('Delete'), {
      pool: () => Promise.reject(new Error('a delete must not touch the database')),
      log: createLogger({ function: 'migrate' }),
    });
    expect(outcome).toEqual({ status: 'SUCCESS' });
    expect(recorder.requests.at(-1)!.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'datacycle-schema',
    });
  });
});
