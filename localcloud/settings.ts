import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

// Local tools run on the machine's Node.js (20+); the AWS SDK's notice that its 2027 releases
// need Node.js 22 is documented in docs/operations.md rather than printed on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * datacycle's own files (the executor plugin, the example, the function bundles): the
 * repository in development, node_modules/datacycle once installed. Found by walking up to
 * datacycle's package.json, so the same code works from its sources and from dist/.
 */
export const packageRoot = findPackageRoot(import.meta.dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'datacycle'
    )
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`datacycle's package.json not found above ${from}`);
  }
}

/** The version of datacycle that runs (package.json). */
export const datacycleVersion = (
  JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** The example data project shipped with datacycle. */
export const exampleProjectDir = path.join(packageRoot, 'examples', 'territoires');

/**
 * This machine's local cloud (the LocalStack venv, its data): .local/ in a checkout of
 * datacycle, ~/.datacycle once installed; DATACYCLE_HOME sets it.
 */
export const localDir =
  process.env.DATACYCLE_HOME ??
  (existsSync(path.join(packageRoot, '.git'))
    ? path.join(packageRoot, '.local')
    : path.join(homedir(), '.datacycle'));

/** A data project's own state, beside its files (git-ignored): stack outputs, cdk.out, bundles. */
export const projectStateDir = (projectDir: string) => path.join(projectDir, '.datacycle');

/** The outputs of a project's stack on the local cloud, as its last deploy wrote them. */
export const stackOutputsFile = (projectDir: string = exampleProjectDir) =>
  path.join(projectStateDir(projectDir), 'stack-outputs.json');
export const venvDir = path.join(localDir, 'venv');
export const localstackDir = path.join(localDir, 'localstack');
export const gatewayCertFile = path.join(localstackDir, 'gateway-cert.pem');

export const localstackPort = Number(process.env.LOCALSTACK_PORT ?? 4566);
export const localstackEndpoint = `http://127.0.0.1:${localstackPort}`;

/** Services the stack uses; nothing else is started. */
export const localstackServices = [
  'cloudformation',
  'cloudwatch',
  'events',
  'iam',
  'lambda',
  'logs',
  's3',
  'secretsmanager',
  'ses',
  'sns',
  'sqs',
  'ssm',
  'sts',
  'apigateway',
];

/** Environment of the LocalStack process: host mode, offline, our Node.js executor. */
export function localstackEnvironment(): Record<string, string> {
  return {
    GATEWAY_LISTEN: `127.0.0.1:${localstackPort}`,
    LOCALSTACK_HOST: `127.0.0.1:${localstackPort}`,
    SERVICES: localstackServices.join(','),
    EAGER_SERVICE_LOADING: '0',
    LAMBDA_RUNTIME_EXECUTOR: 'node-process',
    // Offline: no analytics, no DNS server, no certificate download.
    DISABLE_EVENTS: '1',
    DNS_ADDRESS: '0',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    // Our own certificate (gateway_cert.py): LocalStack's generator fails with pyOpenSSL 26.
    CUSTOM_SSL_CERT_PATH: gatewayCertFile,
    FILESYSTEM_ROOT: path.join(localstackDir, 'fs'),
    // The queues' event sources long-poll on the local cloud (QueueLongPolling, cdk/); after an
    // empty long poll, LocalStack waits about a second (it backs off up to 10 s by default).
    LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC: '1',
    // A busy queue is polled again 0.1 s after a batch (LocalStack waits 1 s by default and runs
    // one batch at a time per queue, where AWS scales its pollers): 10 messages a second at most
    // otherwise, which made webhook fan-out crawl.
    LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC: '0.1',
    // Keep warm environments long enough for a test run, like a busy Lambda.
    LAMBDA_KEEPALIVE_MS: '600000',
    // Queue URLs as http://127.0.0.1:4566/queue/<region>/<account>/<name>: the default
    // "sqs.<region>.127.0.0.1:4566" host is no valid URL host, which the SDK's SQS client
    // (it sends to the queue URL's host) complains of on every call.
    SQS_ENDPOINT_STRATEGY: 'path',
  };
}

/** Credentials and endpoint every AWS client of the local tools uses. */
export function awsLocalEnvironment(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: localstackEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

export const localAccount = '000000000000';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/datacycle';
export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? defaultDatabaseUrl;
}
