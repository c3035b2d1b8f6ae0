/**
 * Brings the local cloud up from a fresh clone: Python venv with LocalStack, PostgreSQL with
 * PostGIS, LocalStack in host mode, the project's CDK stack deployed on it, and the schema
 * migrated by the stack's migrate function.
 * Idempotent: every step checks before it acts. Usage: tsx localcloud/up.ts [project-dir]
 */
import path from 'node:path';
import { createPool, loadProject, syncProjectSubscriptions, webhookSecretPrefix } from '@datacycle/core';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { localClientConfig } from './aws-clients';
import { deployStack } from './deploy';
import { ensureLocalstack } from './localstack';
import { ensurePostgres } from './postgres';
import { SetupError, step } from './process';
import { ensurePythonVenv } from './python-venv';
import { ensureR } from './r-runtime';
import { restorePublications } from './restore';
import { runSchemaResource } from './schema-resource';
import { exampleProjectDir } from './settings';

/** Brings the local cloud up with the project in `projectDir` deployed (absolute, or from the current folder). */
export async function up(projectDir: string = exampleProjectDir) {
  projectDir = path.resolve(projectDir);
  const started = Date.now();
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, title: string, work: () => Promise<T>) => {
    const t = Date.now();
    const result = await step(title, work);
    timings[name] = (Date.now() - t) / 1000;
    return result;
  };
  await timed('venv', 'Python venv with LocalStack (pinned)', ensurePythonVenv);
  const databaseUrl = await timed('postgres', 'PostgreSQL with PostGIS', ensurePostgres);
  await timed('localstack', 'LocalStack (host mode, node-process Lambda executor)', ensureLocalstack);
  const loaded = await loadProject(projectDir);
  if (loaded.ok && loaded.project.models.some((model) => model.language === 'r'))
    await timed('r', 'R for the R models (the local cloud runs them with this machine’s R)', ensureR);
  const outputs = await timed(
    'deploy',
    `CDK stack of ${path.relative(process.cwd(), projectDir) || '.'} on LocalStack`,
    () => deployStack(projectDir, databaseUrl),
  );
  // The deploy's Migrations resource, through the deployed migrate function (as on AWS).
  const schema = await timed('migrate', "database schema, by the stack's migrate function", () =>
    runSchemaResource(outputs, `datacycle-${outputs.ProjectName}`),
  );
  if (schema.applied > 0)
    console.log(`  ${schema.applied} migration(s) applied: schema at version ${schema.schemaVersion}`);
  await verifyAlertSenders(projectDir);
  await syncSubscriptions(projectDir, databaseUrl);
  const restoration = await timed('restore', 'public outputs consistent with the database', () =>
    restorePublications(projectDir, databaseUrl, outputs),
  );
  if (restoration.republished.length > 0)
    console.log(
      `  LocalStack had restarted empty: ${restoration.republished.length} outputs republished from the database ` +
        `(run ${restoration.runId}): ${restoration.republished.join(', ')}.\n` +
        '  The files dropped or collected before the restart (landing bucket, reports) lived only in LocalStack; ' +
        'their data is in PostgreSQL, and dropping them again is judged "duplicate".',
    );
  timings.total = (Date.now() - started) / 1000;
  return { outputs, databaseUrl, timings, restoration };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  up(process.argv[2]).then(
    ({ timings }) => console.log(`local cloud ready in ${timings.total?.toFixed(1)} s`),
    (error: unknown) => {
      console.error(`\n✗ ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof SetupError && error.fix) console.error(`  fix: ${error.fix}`);
      process.exit(1);
    },
  );
}

/**
 * The senders of the project's email alert channels, verified in LocalStack's SES: what an
 * operator does once on AWS (SES mails the address a link), done at each local deploy.
 */
async function verifyAlertSenders(projectDir: string): Promise<void> {
  const loaded = await loadProject(projectDir);
  if (!loaded.ok) return; // deployStack has already said what is wrong
  const ses = new SESClient(localClientConfig());
  for (const channel of loaded.project.config.alerts.channels) {
    if (channel.type === 'email')
      await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: channel.from }));
  }
}

/**
 * The webhook subscriptions of datacycle.yaml, created (with their secrets) right after the
 * deploy, so that the demo's subscriber can read its secret before the first event. On AWS the
 * functions do the same when they start.
 */
async function syncSubscriptions(projectDir: string, databaseUrl: string): Promise<void> {
  const loaded = await loadProject(projectDir);
  if (!loaded.ok) return;
  const pool = createPool(databaseUrl);
  try {
    await syncProjectSubscriptions({
      pool,
      project: loaded.project,
      secrets: {
        client: new SecretsManagerClient(localClientConfig()),
        prefix: webhookSecretPrefix(loaded.project.config.name),
      },
    });
  } finally {
    await pool.end();
  }
}
