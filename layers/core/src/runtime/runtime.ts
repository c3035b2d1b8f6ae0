import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { readDeployedProject, readFunctionEnvironment, type FunctionEnvironment } from '../platform/config';
import type { Buckets } from '../stages/ingest';
import type { Project } from '../platform/project';
import { cachedSecretCheck } from '../platform/secrets';
import { createS3Client } from '../platform/storage';
import {
  checkSchemaVersion,
  createPool,
  DATABASE_ROLES,
  ROLES_MIGRATION,
  type Pool,
} from '../platform/warehouse';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { webhookSecretPrefix, type SecretStore } from '../services/webhooks/secrets';

/**
 * What a deployed function shares across invocations: environment, project, clients and the
 * database pool, created once per container (lazily, so a cold start that fails says why).
 */
export interface Runtime {
  env: FunctionEnvironment;
  project: Project;
  s3: S3Client;
  buckets: Buckets;
  pool: () => Promise<Pool>;
  /**
   * A Secrets Manager secret's value by name or ARN, cached five minutes (rotation is picked
   * up); `fresh` reads it again now.
   */
  secretValue: (name: string, options?: { fresh?: boolean }) => Promise<string>;
  /** Checks presented values against a shared secret in rotation (see platform/secrets), one checker per secret. */
  secretCheck: (name: string) => (matches: (value: string) => boolean) => Promise<boolean>;
  /** Where alerts are published (undefined when the stack gives no bus). */
  eventBus?: { client: EventBridgeClient; name: string };
  sqs: () => SQSClient;
  /** The project's webhook signing secrets. */
  webhookSecrets: () => SecretStore;
}

const secretCache = new Map<string, { value: string; until: number }>();
let secretsClient: SecretsManagerClient | undefined;
let sqsClient: SQSClient | undefined;

async function readSecret(name: string, options: { fresh?: boolean } = {}): Promise<string> {
  const cached = secretCache.get(name);
  if (cached && cached.until > Date.now() && !options.fresh) return cached.value;
  secretsClient ??= new SecretsManagerClient({});
  const { SecretString } = await secretsClient.send(new GetSecretValueCommand({ SecretId: name }));
  const value = SecretString ?? '';
  secretCache.set(name, { value, until: Date.now() + 5 * 60_000 });
  return value;
}

const secretChecks = new Map<string, ReturnType<typeof cachedSecretCheck>>();
let current: Runtime | undefined;

export function runtime(): Runtime {
  if (current) return current;
  const env = readFunctionEnvironment();
  let pool: Promise<Pool> | undefined;
  current = {
    env,
    project: readDeployedProject(env.PROJECT_FILE),
    s3: createS3Client(),
    buckets: {
      landing: env.LANDING_BUCKET,
      raw: env.RAW_BUCKET,
      internal: env.INTERNAL_BUCKET,
      public: env.PUBLIC_BUCKET,
    },
    pool: () => {
      // The schema is checked once per container: a clear error if the deploy did not migrate.
      pool ??= openDatabase(env).then(async (opened) => {
        await checkSchemaVersion(opened).catch(async (error: unknown) => {
          await opened.end().catch(() => undefined);
          throw roleMissing(error, env) ?? error;
        });
        return opened;
      });
      pool.catch(() => (pool = undefined)); // a failed secret read or check is retried next time
      return pool;
    },
    secretValue: readSecret,
    secretCheck: (name) => {
      let check = secretChecks.get(name);
      if (!check) secretChecks.set(name, (check = cachedSecretCheck((fresh) => readSecret(name, { fresh }))));
      return check;
    },
    eventBus: env.EVENT_BUS_NAME
      ? { client: new EventBridgeClient({}), name: env.EVENT_BUS_NAME }
      : undefined,
    sqs: () => (sqsClient ??= new SQSClient({})),
    webhookSecrets: () => ({
      client: (secretsClient ??= new SecretsManagerClient({})),
      prefix: webhookSecretPrefix(current!.project.config.name),
    }),
  };
  return current;
}

/** A pool on the function's database, as its environment says (see FunctionEnvironment), unchecked. */
export async function openDatabase(env: FunctionEnvironment): Promise<Pool> {
  const url = await databaseUrl(env);
  return createPool(url, env.DATABASE_POOL_MAX, {
    mode: env.DATABASE_SSL_MODE,
    caFile: env.DATABASE_SSL_CA_FILE,
    password: iamTokens(env),
    // A managed database's function logs in as its role; elsewhere it enters the role.
    role: env.DATABASE_ROLE && !env.DATABASE_HOST ? DATABASE_ROLES[env.DATABASE_ROLE] : undefined,
  });
}

/** A clearer error when the function's role does not exist yet: the database is behind. */
function roleMissing(error: unknown, env: FunctionEnvironment): Error | undefined {
  const role = env.DATABASE_ROLE && DATABASE_ROLES[env.DATABASE_ROLE];
  if (!role || (error as { code?: string }).code !== '42704' || !String(error).includes(role))
    return undefined;
  return new Error(
    `the database has no role ${role}: the migration creating the datacycle roles (version ` +
      `${ROLES_MIGRATION}) has not run; see the Migrations resource's log, or run datacycle migrate`,
    { cause: error },
  );
}

/**
 * `database: managed`: a fresh IAM authentication token for each new connection to the RDS
 * Proxy (valid 15 minutes, made locally from the function's role: no network call, no secret).
 */
function iamTokens(env: FunctionEnvironment): (() => Promise<string>) | undefined {
  if (!env.DATABASE_HOST || !env.DATABASE_IAM_USER) return undefined;
  const signer = new Signer({
    hostname: env.DATABASE_HOST,
    port: env.DATABASE_PORT,
    username: env.DATABASE_IAM_USER,
  });
  return () => signer.getAuthToken();
}

async function databaseUrl(env: FunctionEnvironment): Promise<string> {
  if (env.DATABASE_HOST)
    return `postgres://${encodeURIComponent(env.DATABASE_IAM_USER ?? '')}@${env.DATABASE_HOST}:${env.DATABASE_PORT}/${encodeURIComponent(env.DATABASE_NAME ?? '')}`;
  if (!env.DATABASE_SECRET_ARN) return env.DATABASE_URL as string;
  const client = new SecretsManagerClient({});
  const secret = await client.send(new GetSecretValueCommand({ SecretId: env.DATABASE_SECRET_ARN }));
  const value = secret.SecretString ?? '';
  // Either a bare connection string or the JSON document RDS-managed secrets use.
  if (value.startsWith('postgres')) return value;
  const parsed = JSON.parse(value) as {
    url?: string;
    username?: string;
    password?: string;
    host?: string;
    port?: number;
    dbname?: string;
  };
  if (parsed.url) return parsed.url;
  const user = encodeURIComponent(parsed.username ?? '');
  const password = encodeURIComponent(parsed.password ?? '');
  return `postgres://${user}:${password}@${parsed.host}:${parsed.port ?? 5432}/${parsed.dbname ?? 'postgres'}`;
}
