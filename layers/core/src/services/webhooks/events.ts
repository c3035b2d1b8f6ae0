import type { z } from 'zod';
import {
  PAYLOAD_VERSION,
  webhookTypesOfAlert,
  type QueueMessage,
  type WebhookEventType,
  thresholdDataSchema,
  type alertDataSchema,
  type publishedDataSchema,
} from '../../platform/events';

/** An event as subscribers hear of it: small, versioned, with links rather than data. */
export interface WebhookEvent {
  /** Unique per event: a duplicate of the bus event maps to the same id (delivered once). */
  id: string;
  type: WebhookEventType;
  /** The dataset or model concerned (subscriptions may filter on it). */
  dataset?: string;
  payload: { type: WebhookEventType; timestamp: string; version: number; data: WebhookData };
}

/** The data of a payload, as the catalogue describes it. */
type WebhookData =
  z.infer<typeof publishedDataSchema> | z.infer<typeof alertDataSchema> | z.infer<typeof thresholdDataSchema>;

/** Where the links of the payloads point. */
export interface PublicLinks {
  /** The read API, e.g. https://…lambda-url…/ (without it, no API links). */
  apiUrl?: string;
  /** The public bucket, e.g. https://bucket.s3.eu-west-3.amazonaws.com */
  publicUrl: string;
}

const trim = (url: string) => url.replace(/\/$/, '');

/** The webhook events of one bus event (none for alerts subscribers do not hear of). */
export function webhookEventsOf(event: QueueMessage<'webhookEvents'>, links: PublicLinks): WebhookEvent[] {
  const api = links.apiUrl ? trim(links.apiUrl) : undefined;
  const make = (type: WebhookEventType, dataset: string | undefined, data: WebhookData): WebhookEvent => ({
    id: `${event.id}:${type}${dataset ? `:${dataset}` : ''}`,
    type,
    dataset,
    payload: { type, timestamp: event.time, version: PAYLOAD_VERSION, data },
  });
  if (event['detail-type'] === 'datacycle.outputs.published') {
    const detail = event.detail;
    const exports = (name: string) => `${trim(links.publicUrl)}/exports/${name}/latest`;
    return detail.outputs.map((name) =>
      make('dataset.published', name, {
        dataset: name,
        version: detail.version,
        runIds: detail.runIds,
        links: {
          ...(api ? { dataset: `${api}/datasets/${name}`, rows: `${api}/datasets/${name}/rows` } : {}),
          datapackage: `${exports(name)}/datapackage.json`,
          csv: `${exports(name)}/${name}.csv`,
          portal: `${trim(links.publicUrl)}/portal/datasets/${name}.html`,
        },
      }),
    );
  }
  const alert = event.detail;
  return webhookTypesOfAlert(alert.kind).map((type) =>
    make(type, alert.subject, {
      ...(alert.subject ? { dataset: alert.subject } : {}),
      ...(alert.runId ? { runId: alert.runId } : {}),
      title: alert.title,
      message: alert.message,
      ...(alert.hint ? { hint: alert.hint } : {}),
      links: api && alert.runId ? { run: `${api}/runs/${alert.runId}` } : {},
      ...(type === 'indicator.threshold_crossed'
        ? { indicator: thresholdDataSchema.shape.indicator.parse(alert.details?.indicator) }
        : {}),
    }),
  );
}
