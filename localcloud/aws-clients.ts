import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsLocalEnvironment } from './settings';

/** SDK clients pointed at the local cloud (path-style S3: there is no DNS for bucket hosts). */
export function localClientConfig() {
  const env = awsLocalEnvironment();
  return {
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };
}

export const localS3 = () => new S3Client(localClientConfig());
export const localSqs = () => new SQSClient(localClientConfig());

/**
 * The host a deployed function URL answers on through LocalStack's gateway (127.0.0.1:4566).
 * LocalStack routes function URLs by host name, whatever follows `lambda-url.<region>.`; the
 * host CloudFormation reports ends in `127.0.0.1:4566`, which is no valid URL host, so links
 * and clients use this one.
 */
export function localFunctionUrlHost(functionUrl: string): string {
  const match = /^https?:\/\/([^.]+)\.lambda-url\.([^.]+)\./.exec(functionUrl);
  if (!match) throw new Error(`${functionUrl} is not a Lambda function URL`);
  return `${match[1]}.lambda-url.${match[2]}.localhost.localstack.cloud:4566`;
}
