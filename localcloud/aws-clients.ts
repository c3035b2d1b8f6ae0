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
