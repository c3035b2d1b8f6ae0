import type pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../../platform/logging';
import { connect, databaseRoles, enableLogins, migrate, type DatabaseRole } from '../../platform/warehouse';

/** The CloudFormation custom resource request a deploy sends (create, update, delete). */
export const customResourceRequestSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResponseURL: z.url(),
  StackId: z.string(),
  RequestId: z.string(),
  LogicalResourceId: z.string(),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.record(z.string(), z.unknown()).default({}),
});
export type CustomResourceRequest = z.infer<typeof customResourceRequestSchema>;

/** A login secret as RDS makes them (DatabaseSecret): JSON with at least the password. */
const loginSecretSchema = z.object({ password: z.string().min(1) });

/** The role logins' passwords, read from their secrets (role → secret ARN, set by the stack). */
export async function readLogins(
  secrets: Record<string, string>,
  secretValue: (arn: string) => Promise<string>,
): Promise<{ role: DatabaseRole; password: string }[]> {
  return Promise.all(
    Object.entries(secrets).map(async ([role, arn]) => ({
      role: z.enum(databaseRoles).parse(role),
      password: loginSecretSchema.parse(JSON.parse(await secretValue(arn))).password,
    })),
  );
}

/** One schema per stack: the resource never changes identity, so an update never "replaces" it. */
const PHYSICAL_ID = 'datacycle-schema';

/**
 * Answers CloudFormation at the pre-signed URL of the request: the deploy waits for it (an
 * answer that never comes holds the deploy for an hour). `reason` is shown in the stack events.
 */
async function answer(
  request: CustomResourceRequest,
  outcome: { status: 'SUCCESS' | 'FAILED'; reason?: string; data?: Record<string, string> },
): Promise<void> {
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: (outcome.reason ?? 'see the migrate function log').slice(0, 1000),
    PhysicalResourceId: request.PhysicalResourceId ?? PHYSICAL_ID,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    Data: outcome.data ?? {},
  });
  // The URL is signed for a PUT without a content type.
  const response = await fetch(request.ResponseURL, {
    method: 'PUT',
    body,
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`CloudFormation refused the answer: HTTP ${response.status}`);
}

/**
 * The stack's Migrations resource: on create and update, applies the pending migrations (one
 * transaction each, serialized by an advisory lock: idempotent, safe to run twice) and gives
 * the schema version to the stack; on delete, nothing (the data outlives the stack). A failed
 * migration fails the deploy with its reason, which rolls the stack back.
 */
export async function handleSchemaResource(
  request: CustomResourceRequest,
  context: {
    pool: () => Promise<pg.Pool>;
    log: Logger;
    /** Managed database: the passwords of the role logins, from their secrets (rotated there). */
    logins?: () => Promise<{ role: DatabaseRole; password: string }[]>;
  },
): Promise<{ status: 'SUCCESS' | 'FAILED'; schemaVersion?: number }> {
  if (request.RequestType === 'Delete') {
    await answer(request, { status: 'SUCCESS', reason: 'the database and its schema are kept' });
    return { status: 'SUCCESS' };
  }
  try {
    const pool = await context.pool();
    const outcome = await migrate(pool);
    // The roles exist now; on a managed database each logs in with its secret's password (set
    // at every deploy: a secret replaced by hand is picked up, a rotated one is unchanged).
    const logins = (await context.logins?.()) ?? [];
    if (logins.length > 0) {
      const client = await connect(pool);
      try {
        await enableLogins(client, logins);
      } finally {
        client.release();
      }
      context.log.info('role logins enabled', { roles: logins.map((login) => login.role) });
    }
    context.log.info('schema migrated', {
      applied: outcome.applied.map((migration) => `${migration.version} ${migration.name}`),
      schemaVersion: outcome.current,
    });
    await answer(request, {
      status: 'SUCCESS',
      reason: `schema at version ${outcome.current} (${outcome.applied.length} migration(s) applied)`,
      data: { SchemaVersion: String(outcome.current), Applied: String(outcome.applied.length) },
    });
    return { status: 'SUCCESS', schemaVersion: outcome.current };
  } catch (error) {
    const reason = `migration failed: ${error instanceof Error ? error.message : String(error)}`;
    context.log.error('schema migration failed', { error });
    await answer(request, { status: 'FAILED', reason });
    return { status: 'FAILED' };
  }
}
