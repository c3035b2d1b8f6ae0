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

/**
 * An ingest queue message (an S3 notification sent to SQS), read as what it asks for: the
 * objects it announces, or nothing for S3's test event and events other than ObjectCreated.
 */
export const ingestMessageSchema = z
  .union([s3TestEventSchema, s3EventSchema])
  .transform((event): IngestRequest[] =>
    'Event' in event
      ? [{ kind: 'ignore', reason: event.Event }]
      : event.Records.map((record) =>
          record.eventName.startsWith('ObjectCreated')
            ? { kind: 'object', bucket: record.s3.bucket.name, key: record.s3.object.key }
            : { kind: 'ignore', reason: record.eventName },
        ),
  );
