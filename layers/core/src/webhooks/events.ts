import { z } from 'zod';
import { ALERT_DETAIL_TYPE, alertSchema } from '../alerts';
import { pipelineEvents } from '../events/bus';
import type { webhookEventTypes } from '../project/schema';

export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The version of the payloads below; a breaking change gets a new one. */
export const PAYLOAD_VERSION = 1;

/** An event as subscribers hear of it: small, versioned, with links rather than data. */
export interface WebhookEvent {
  /** Unique per event: a duplicate of the bus event maps to the same id (delivered once). */
  id: string;
  type: WebhookEventType;
  /** The dataset or model concerned (subscriptions may filter on it). */
  dataset?: string;
  payload: { type: WebhookEventType; timestamp: string; version: number; data: Record<string, unknown> };
}

/** Where the links of the payloads point. */
export interface PublicLinks {
  /** The read API, e.g. https://…lambda-url…/ (without it, no API links). */
  apiUrl?: string;
  /** The public bucket, e.g. https://bucket.s3.eu-west-3.amazonaws.com */
  publicUrl: string;
}

/** The bus events webhooks are made from (EventBridge envelope). */
export const busEventSchema = z.object({
  id: z.string(),
  time: z.string(),
  'detail-type': z.string(),
  detail: z.record(z.string(), z.unknown()),
});

const publishedSchema = z.object({
  outputs: z.array(z.string()),
  version: z.string(),
  runIds: z.array(z.string()).default([]),
});

/** Which public events an alert makes. */
const alertTypes: Record<string, WebhookEventType[]> = {
  'collect-failed': ['run.failed', 'dataset.failed'],
  'file-rejected': ['file.rejected', 'dataset.failed'],
  'run-failed': ['run.failed'],
  'test-failed': ['quality.failed'],
};

const trim = (url: string) => url.replace(/\/$/, '');

/** The webhook events of one bus event (none for events subscribers cannot hear of). */
export function webhookEventsOf(event: z.infer<typeof busEventSchema>, links: PublicLinks): WebhookEvent[] {
  const api = links.apiUrl ? trim(links.apiUrl) : undefined;
  const make = (
    type: WebhookEventType,
    dataset: string | undefined,
    data: Record<string, unknown>,
  ): WebhookEvent => ({
    id: `${event.id}:${type}${dataset ? `:${dataset}` : ''}`,
    type,
    dataset,
    payload: { type, timestamp: event.time, version: PAYLOAD_VERSION, data },
  });
  if (event['detail-type'] === pipelineEvents.outputsPublished) {
    const detail = publishedSchema.parse(event.detail);
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
  if (event['detail-type'] === ALERT_DETAIL_TYPE) {
    const alert = alertSchema.parse(event.detail);
    return (alertTypes[alert.kind] ?? []).map((type) =>
      make(type, alert.subject, {
        ...(alert.subject ? { dataset: alert.subject } : {}),
        ...(alert.runId ? { runId: alert.runId } : {}),
        title: alert.title,
        message: alert.message,
        ...(alert.hint ? { hint: alert.hint } : {}),
        links: api && alert.runId ? { run: `${api}/runs/${alert.runId}` } : {},
      }),
    );
  }
  return [];
}
