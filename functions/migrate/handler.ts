import {
  customResourceRequestSchema,
  handleSchemaResource,
  lambdaHandler,
  openDatabase,
  readLogins,
  type Pool,
} from '@datacycle/core';

/**
 * The stack's Migrations custom resource: `cdk deploy` (on AWS and on the local cloud) brings
 * the database schema up to this version of datacycle before any other function runs.
 */
export const handler = lambdaHandler('migrate', async (event: unknown, { platform, log }) => {
  const request = customResourceRequestSchema.parse(event);
  let pool: Pool | undefined;
  try {
    return await handleSchemaResource(request, {
      pool: async () => (pool = await openDatabase(platform.env)),
      log,
      logins: () => readLogins(platform.env.DATABASE_LOGIN_SECRETS, platform.secretValue),
    });
  } finally {
    await pool?.end();
  }
});
