import { SESClient } from '@aws-sdk/client-ses';
import { notifyChannels, queueHandler } from '@datacycle/core';

const ses = new SESClient({});

/**
 * Alerts queue consumer: each message is an alert event routed from the event bus, sent to
 * the project's channels (webhooks, email). A channel that cannot be reached fails the
 * message, which SQS delivers again; a channel that refuses it parks it in the DLQ.
 */
export const handler = queueHandler(
  'notify',
  'alerts',
  async (event, { platform, log }) => {
    const sent = await notifyChannels(
      { pool: await platform.pool(), project: platform.project.config, ses },
      event.detail,
    );
    log.info('alert sent', { alertId: event.detail.id, ...sent });
  },
  {
    describe: (event) => ({
      runId: event.detail.runId,
      dataset: event.detail.subject,
      kind: event.detail.kind,
    }),
  },
);
