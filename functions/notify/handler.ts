import middy from '@middy/core';
import { SESClient } from '@aws-sdk/client-ses';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { alertEventSchema, deliverAlert, errorMessage, isTransient, runtime } from '@datacycle/core';

const ses = new SESClient({});

/**
 * Alerts queue consumer: each message is an alert event routed from the event bus. Delivers
 * it to the project's channels; a channel that cannot be reached leaves the message to be
 * delivered again (and to the DLQ after a few attempts), a malformed one is dropped loudly.
 */
async function notify(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  const pool = await platform.pool();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const parsed = alertEventSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      log('error', 'not an alert event, dropped', {
        messageId: record.messageId,
        body: record.body.slice(0, 500),
      });
      continue;
    }
    try {
      const delivered = await deliverAlert(
        { pool, project: platform.project.config, ses },
        parsed.data.detail,
      );
      log('info', 'alert delivered', { id: parsed.data.detail.id, ...delivered });
    } catch (error) {
      log(
        'error',
        isTransient(error) ? 'delivery failed, will retry' : 'delivery refused, will retry then DLQ',
        {
          id: parsed.data.detail.id,
          error: errorMessage(error),
        },
      );
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function log(level: 'info' | 'error', message: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, function: 'notify', message, ...details }));
}

export const handler = middy(notify);
