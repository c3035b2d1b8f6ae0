import { ingestObject, queueHandler } from '@datacycle/core';

/**
 * Ingest queue consumer: each message is an S3 notification from the landing bucket. Bad
 * data is recorded by ingestObject (report, quarantine, alert) and the message acknowledged;
 * a transient failure is retried by SQS; a message that can never be handled goes to the DLQ.
 */
export const handler = queueHandler(
  'ingest',
  'ingest',
  async (requests, { platform, log, item }) => {
    const pool = await platform.pool();
    for (const request of requests) {
      if (request.kind === 'ignore') continue;
      const outcome = await ingestObject(
        {
          s3: platform.s3,
          pool,
          project: platform.project,
          buckets: platform.buckets,
          eventBus: platform.eventBus,
          log,
        },
        { bucket: request.bucket, key: request.key },
        { redelivered: item.redelivered },
      );
      log.info('ingest outcome', { ...outcome });
    }
  },
  {
    describe: (requests) => ({
      objects: requests.flatMap((request) => (request.kind === 'object' ? [request.key] : [])),
    }),
  },
);
