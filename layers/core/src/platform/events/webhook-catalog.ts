import { z } from 'zod';
import type { AlertKind } from './alert';
import type { BusEventType } from './bus';

/** The version of the payloads below; a breaking change gets a new one. */
export const PAYLOAD_VERSION = 1;

/** `data` of a dataset.published payload: links to the data rather than the data. */
export const publishedDataSchema = z.object({
  dataset: z.string().describe('the dataset or model published'),
  version: z.string().describe('the publication version (UTC stamp), also in the export paths'),
  runIds: z.array(z.string()).describe('the runs whose data this publication holds'),
  links: z.object({
    dataset: z.string().optional().describe('the dataset in the read API (when the stack has one)'),
    rows: z.string().optional().describe('its rows in the read API'),
    datapackage: z.string().describe('the Frictionless data package of the latest exports'),
    csv: z.string().describe('the latest CSV export'),
    portal: z.string().describe('the dataset page of the portal'),
  }),
});

/** `data` of the payloads made from an alert: what failed, where and what to do. */
export const alertDataSchema = z.object({
  dataset: z.string().optional().describe('the dataset or model concerned'),
  runId: z.string().optional().describe('the run that failed: GET /runs/{runId}'),
  title: z.string().describe('one line: what failed'),
  message: z.string().describe('why, with where (file, row, field) when known'),
  hint: z.string().optional().describe('what to do about it'),
  links: z.object({ run: z.string().optional().describe('the run in the read API') }),
});

/** `data` of an indicator.threshold_crossed payload: the alert, and which series crossed what. */
export const thresholdDataSchema = alertDataSchema.extend({
  indicator: z.object({
    model: z.string().describe('the indicator model'),
    measure: z.string().describe('the value followed'),
    above: z.number().optional().describe('the threshold, when crossing means going above it'),
    below: z.number().optional().describe('the threshold, when crossing means going below it'),
    crossings: z
      .array(
        z.object({
          series: z.record(z.string(), z.unknown()).describe("the series' key columns and values"),
          label: z.string().nullable().describe('its label'),
          value: z.number().describe('its value now'),
          previous: z.number().nullable().describe('its value at the previous snapshot, if any'),
        }),
      )
      .describe('each series beyond the threshold now that was not before'),
  }),
});

interface CatalogEntry {
  /** When a subscriber hears of it. */
  when: string;
  /** The bus event it is made from. */
  from: BusEventType;
  /** For events made from alerts: the alert kinds that make it. */
  alertKinds?: readonly AlertKind[];
  data: z.ZodType;
}

/**
 * What subscribers can hear of: each webhook event type, the bus event it comes from and
 * the schema of its payload's `data`. The fan-out, the subscription filters, the OpenAPI
 * document and docs/api.md are all made from this one table.
 */
export const webhookCatalog = {
  'dataset.published': {
    when: 'a dataset or model is exported (after its tests passed)',
    from: 'datacycle.outputs.published',
    data: publishedDataSchema,
  },
  'dataset.failed': {
    when: "a dataset's collection failed or its file was rejected",
    from: 'datacycle.alert',
    alertKinds: ['collect-failed', 'file-rejected'],
    data: alertDataSchema,
  },
  'file.rejected': {
    when: 'a file was rejected by validation (its report says why)',
    from: 'datacycle.alert',
    alertKinds: ['file-rejected'],
    data: alertDataSchema,
  },
  'quality.failed': {
    when: 'error-level data tests failed: nothing was published',
    from: 'datacycle.alert',
    alertKinds: ['test-failed'],
    data: alertDataSchema,
  },
  'indicator.threshold_crossed': {
    when: "an indicator's value crossed a threshold declared in the project (datacycle.yaml)",
    from: 'datacycle.alert',
    alertKinds: ['threshold-crossed'],
    data: thresholdDataSchema,
  },
  'run.failed': {
    when: 'a run failed (collection, transform, publication)',
    from: 'datacycle.alert',
    alertKinds: ['collect-failed', 'run-failed'],
    data: alertDataSchema,
  },
} as const satisfies Record<string, CatalogEntry>;

export type WebhookEventType = keyof typeof webhookCatalog;

/** The webhook event types, in the catalogue's order. */
export const webhookEventTypes = Object.keys(webhookCatalog) as [WebhookEventType, ...WebhookEventType[]];

/** The payload every delivery carries (its `data` per the catalogue). */
export function webhookPayloadSchema(type: WebhookEventType) {
  return z.object({
    type: z.literal(type),
    timestamp: z.string().describe('when the event happened (ISO 8601)'),
    version: z.literal(PAYLOAD_VERSION),
    data: webhookCatalog[type].data,
  });
}

/** The webhook event types an alert of this kind makes (none for most internal kinds). */
export function webhookTypesOfAlert(kind: AlertKind): WebhookEventType[] {
  return webhookEventTypes.filter((type) => {
    const entry: CatalogEntry = webhookCatalog[type];
    return entry.alertKinds?.includes(kind) ?? false;
  });
}

/** The catalogue as a Markdown table, as docs/api.md shows it. */
export function webhookCatalogMarkdown(): string {
  const rows = webhookEventTypes.map((type) => {
    const entry: CatalogEntry = webhookCatalog[type];
    const from = entry.alertKinds ? `alerts: ${entry.alertKinds.join(', ')}` : entry.from;
    return [`\`${type}\``, entry.when, `\`${from}\``];
  });
  const header = ['event', 'when', 'made from'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}
