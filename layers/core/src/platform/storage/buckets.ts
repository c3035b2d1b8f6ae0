import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

/** One S3 client per container. Path-style addressing when an endpoint is set (LocalStack). */
export function createS3Client(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({ forcePathStyle: Boolean(endpoint), ...(endpoint ? { endpoint } : {}) });
}

export interface ObjectRef {
  bucket: string;
  key: string;
}

export async function readObject(s3: S3Client, ref: ObjectRef): Promise<Readable> {
  const response = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  return response.Body as Readable;
}

/** A small object's content as text (manifests, data packages). */
export async function readObjectText(s3: S3Client, ref: ObjectRef): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await readObject(s3, ref)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function objectExists(s3: S3Client, ref: ObjectRef): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** sha256, size and user metadata of an object, read as a stream (bounded memory). */
export async function hashObject(
  s3: S3Client,
  ref: ObjectRef,
): Promise<{ sha256: string; size: number; metadata: Record<string, string> }> {
  const response = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of response.Body as Readable) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size, metadata: response.Metadata ?? {} };
}

export async function copyObject(s3: S3Client, from: ObjectRef, to: ObjectRef): Promise<void> {
  await s3.send(
    new CopyObjectCommand({
      CopySource: `${from.bucket}/${encodeURIComponent(from.key).replaceAll('%2F', '/')}`,
      Bucket: to.bucket,
      Key: to.key,
    }),
  );
}

/** A URL that lets its holder PUT exactly `bytes` bytes at `ref` for `expiresIn` seconds. */
export async function presignPut(
  s3: S3Client,
  ref: ObjectRef,
  bytes: number,
  metadata: Record<string, string>,
  expiresIn: number,
): Promise<string> {
  // Loaded on first use: only the push function signs URLs.
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  return getSignedUrl(
    s3,
    new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, ContentLength: bytes, Metadata: metadata }),
    { expiresIn },
  );
}

export async function deleteObject(s3: S3Client, ref: ObjectRef): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
}

export async function putJson(s3: S3Client, ref: ObjectRef, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      Body: JSON.stringify(value, null, 2),
      ContentType: 'application/json',
    }),
  );
}

export async function putText(
  s3: S3Client,
  ref: ObjectRef,
  text: string,
  contentType: string,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: text, ContentType: contentType }),
  );
}

export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

/** Keys of the zones. Raw copies are content-addressed: the same bytes land on the same key. */
export const zoneKeys = {
  raw: (dataset: string, sha256: string, filename: string) => `raw/${dataset}/${sha256}/${filename}`,
  quarantine: (dataset: string, sha256: string, filename: string) =>
    `quarantine/${dataset}/${sha256}/${filename}`,
  report: (dataset: string, runId: string) => `reports/${dataset}/${runId}.json`,
  /** A backup: definitions.json, data/<schema>.<table>.csv.gz, manifest.json. */
  backup: (at: Date) =>
    `backups/${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}/`,
  /** The readable version of a report, beside the JSON one. */
  reportMarkdown: (reportKey: string) => reportKey.replace(/\.json$/, '.md'),
};

/** Where anyone downloads a public object from: the local endpoint on LocalStack, S3 otherwise. */
export function publicBucketUrl(bucket: string, env: NodeJS.ProcessEnv = process.env): string {
  // A distribution in front of the bucket (PublicSite) serves it under its own name.
  if (env.PUBLIC_BASE_URL) return env.PUBLIC_BASE_URL.replace(/\/$/, '');
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) return `${endpoint.replace(/\/$/, '')}/${bucket}`;
  return `https://${bucket}.s3.${env.AWS_REGION ?? 'us-east-1'}.amazonaws.com`;
}
