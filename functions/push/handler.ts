import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import {
  UPLOAD_URL_SECONDS,
  lambdaHandler,
  presignPut,
  receivePush,
  type Runtime,
  type SecretCheck,
} from '@datacycle/core';

/** Checks a value against the dataset's push secret (cached; a rotation needs no redeploy). */
function pushSecretCheck(platform: Runtime): SecretCheck {
  return (datasetId, matches) => {
    const arn = platform.env.PUSH_SECRETS[datasetId];
    if (!arn) throw new Error(`no push secret configured for ${datasetId}`);
    return platform.secretCheck(arn)(matches);
  };
}

/** Function URL adapter: HTTP request → receivePush → problem+json or 202. */
export const handler = lambdaHandler<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
  'push',
  async (event, { platform, log }): Promise<LambdaFunctionURLResult> => {
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
        pushSecretCheck(platform),
      );
      return {
        statusCode: response.status,
        headers: { 'content-type': response.status < 300 ? 'application/json' : 'application/problem+json' },
        body: JSON.stringify(response.body),
      };
    } catch (error) {
      log.error('push could not be received', { error });
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
  },
);
