import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import {
  UPLOAD_URL_SECONDS,
  errorMessage,
  presignPut,
  pushSecretsSchema,
  receivePush,
  runtime,
} from '@datacycle/core';

const secretArns = pushSecretsSchema.parse(JSON.parse(process.env.PUSH_SECRETS ?? '{}'));

/** The dataset's push secret (cached a few minutes by the runtime: rotation needs no redeploy). */
async function secretOf(datasetId: string): Promise<string> {
  const arn = secretArns[datasetId];
  if (!arn) throw new Error(`no push secret configured for ${datasetId}`);
  return runtime().secretValue(arn);
}

/** Function URL adapter: HTTP request → receivePush → problem+json or 202. */
async function push(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  const platform = runtime();
  try {
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const response = await receivePush(
      {
        s3: platform.s3,
        pool: await platform.pool(),
        landingBucket: platform.buckets.landing,
        presignPut: (key, bytes, metadata) =>
          presignPut(
            platform.s3,
            { bucket: platform.buckets.landing, key },
            bytes,
            metadata,
            UPLOAD_URL_SECONDS,
          ),
      },
      platform.project,
      { method: event.requestContext.http.method, path: event.rawPath, headers, body },
      secretOf,
    );
    return {
      statusCode: response.status,
      headers: { 'content-type': response.status < 300 ? 'application/json' : 'application/problem+json' },
      body: JSON.stringify(response.body),
    };
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', function: 'push', error: errorMessage(error) }));
    return {
      statusCode: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '30' },
      body: JSON.stringify({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'try again later',
      }),
    };
  }
}

export const handler = middy(push);
