export { EVENT_SOURCE, pipelineEvents, publishEvent, type EventBus } from './bus';
import { z } from 'zod';

/** One record of an S3 event notification (ObjectCreated:*). */
export const s3EventRecordSchema = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      // S3 URL-encodes keys in notifications, with "+" for spaces.
      key: z.string().transform((key) => decodeURIComponent(key.replace(/\+/g, ' '))),
      size: z.number().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

export const s3EventSchema = z.object({ Records: z.array(s3EventRecordSchema) });

/** Sent by S3 once when a notification is configured; carries no object. */
export const s3TestEventSchema = z.object({ Event: z.literal('s3:TestEvent') });

export type S3EventRecord = z.infer<typeof s3EventRecordSchema>;

/** What an ingest queue message asks for: one object to ingest, or nothing to do. */
export type IngestRequest =
  { kind: 'object'; bucket: string; key: string } | { kind: 'ignore'; reason: string };

/** Reads the body of an ingest queue message (an S3 notification sent to SQS). */
export function parseIngestMessage(body: string): IngestRequest[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`ingest message is not JSON: ${body.slice(0, 120)}`);
  }
  if (s3TestEventSchema.safeParse(json).success) return [{ kind: 'ignore', reason: 's3:TestEvent' }];
  const event = s3EventSchema.parse(json);
  return event.Records.map((record) =>
    record.eventName.startsWith('ObjectCreated')
      ? { kind: 'object', bucket: record.s3.bucket.name, key: record.s3.object.key }
      : { kind: 'ignore', reason: record.eventName },
  );
}
