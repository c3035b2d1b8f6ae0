import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { errorMessage, ingestObject, isTransient, parseIngestMessage, runtime } from '@datacycle/core';

/**
 * Ingest queue consumer: each message is an S3 notification from the landing bucket.
 * Terminal problems are recorded by ingestObject and the message is acknowledged;
 * transient ones are reported as batch item failures so SQS retries only those messages.
 */
async function ingest(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  const pool = await platform.pool();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      for (const request of parseIngestMessage(record.body)) {
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
        );
        log('ingest outcome', { messageId: record.messageId, ...outcome });
      }
    } catch (error) {
      const transient = isTransient(error);
      log(transient ? 'transient failure, will retry' : 'terminal failure, sending to retry/DLQ', {
        messageId: record.messageId,
        error: errorMessage(error),
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function log(message: string, details: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level: 'info', function: 'ingest', message, ...details }));
}

export const handler = middy(ingest);
