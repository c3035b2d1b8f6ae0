import {
  fanOut,
  publicBucketUrl,
  queueHandler,
  syncProjectSubscriptions,
  unknownOutputs,
  webhookEventsOf,
} from '@datacycle/core';

let synced: Promise<unknown> | undefined;

/**
 * Webhook events queue consumer: pipeline events and alerts routed from the bus become one
 * delivery per (event, subscription) on the deliveries queue. A duplicate event is delivered
 * once; a message that could not be fanned out fails and SQS delivers it again.
 */
export const handler = queueHandler(
  'webhook-fanout',
  'webhookEvents',
  async (event, { platform, log }) => {
    const pool = await platform.pool();
    synced ??= syncProjectSubscriptions({
      pool,
      secrets: platform.webhookSecrets(),
      project: platform.project,
    });
    synced.catch(() => (synced = undefined));
    await synced;
    const queue = { sqs: platform.sqs(), url: platform.env.DELIVERIES_QUEUE_URL ?? '' };
    const links = { apiUrl: platform.env.API_URL, publicUrl: publicBucketUrl(platform.buckets.public) };
    const events = webhookEventsOf(event, links);
    const deliveries = await fanOut({ pool, queue }, events);
    log.info('fanned out', { events: events.map((webhook) => webhook.id), deliveries: deliveries.length });
  },
  {
    describe: (event) => ({ eventId: event.id, detailType: event['detail-type'] }),
    refuse: (event, project) =>
      event['detail-type'] === 'datacycle.outputs.published'
        ? unknownOutputs(project, event.detail.outputs)
        : undefined,
  },
);
