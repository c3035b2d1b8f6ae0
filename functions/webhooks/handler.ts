import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  busEventSchema,
  errorMessage,
  fanOut,
  publicBucketUrl,
  runtime,
  syncProjectSubscriptions,
  webhookEventsOf,
} from '@datacycle/core';

let synced: Promise<unknown> | undefined;

/**
 * Webhook events queue consumer: pipeline events and alerts routed from the bus become one
 * delivery per (event, subscription) on the deliveries queue. A duplicate event is delivered
 * once; a message that could not be fanned out fails and SQS delivers it again.
 */
async function webhooks(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = runtime();
  const pool = await platform.pool();
  synced ??= syncProjectSubscriptions({
    pool,
    secrets: platform.webhookSecrets(),
    project: platform.project,
  });
  synced.catch(() => (synced = undefined));
  await synced;
  const queue = { sqs: platform.sqs(), url: process.env.DELIVERIES_QUEUE_URL! };
  const links = { apiUrl: process.env.API_URL, publicUrl: publicBucketUrl(platform.buckets.public) };
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const parsed = busEventSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      log('error', 'not a bus event, dropped', { body: record.body.slice(0, 500) });
      continue;
    }
    try {
      const events = webhookEventsOf(parsed.data, links);
      const deliveries = await fanOut({ pool, queue }, events);
      log('info', 'fanned out', { events: events.map((e) => e.id), deliveries: deliveries.length });
    } catch (error) {
      log('error', 'fan-out failed, will retry', { error: errorMessage(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function log(level: 'info' | 'error', message: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, function: 'webhooks', message, ...details }));
}

export const handler = middy(webhooks);
