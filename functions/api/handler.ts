import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import {
  handleApiRequest,
  lambdaHandler,
  syncProjectSubscriptions,
  type ApiContext,
  type Logger,
  type Runtime,
} from '@datacycle/core';

let context: Promise<ApiContext> | undefined;

/** Built once per container; the project's declared subscriptions are brought in step first. */
async function apiContext(platform: Runtime): Promise<ApiContext> {
  const pool = await platform.pool();
  const secrets = platform.webhookSecrets();
  await syncProjectSubscriptions({ pool, secrets, project: platform.project });
  const keyArn = platform.env.API_KEY_SECRET_ARN;
  return {
    pool,
    project: platform.project,
    s3: platform.s3,
    publicBucket: platform.buckets.public,
    apiKey: keyArn ? platform.secretCheck(keyArn) : undefined,
    secrets,
    deliveries: platform.env.DELIVERIES_QUEUE_URL
      ? { sqs: platform.sqs(), url: platform.env.DELIVERIES_QUEUE_URL }
      : undefined,
  };
}

/** Function URL adapter of the read API (handleApiRequest does the rest). */
async function api(
  event: LambdaFunctionURLEvent,
  platform: Runtime,
  log: Logger,
): Promise<LambdaFunctionURLResult> {
  context ??= apiContext(platform);
  context.catch(() => (context = undefined));
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const scheme = headers['x-forwarded-proto'] ?? 'https';
  // Links are built on the host the client used; LocalStack's default function URL host
  // ("….lambda-url.<region>.127.0.0.1:4566") is no valid URL host, the domain name is.
  const host = [headers.host, event.requestContext.domainName].find((candidate) =>
    URL.canParse(`${scheme}://${candidate}`),
  );
  const response = await handleApiRequest(
    { ...(await context), log },
    {
      method: event.requestContext.http.method,
      path: event.rawPath || '/',
      query: new URLSearchParams(event.rawQueryString ?? ''),
      headers,
      body: event.body
        ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8')
        : undefined,
      baseUrl: `${scheme}://${host ?? 'localhost'}`,
    },
  );
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

export const handler = lambdaHandler<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
  'api',
  (event, { platform, log }) => api(event, platform, log),
);
