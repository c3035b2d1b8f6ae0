import { z } from 'zod';

/** What went wrong, as the data team sees it. */
export const alertKinds = [
  'collect-failed',
  'file-rejected',
  'run-failed',
  'test-failed',
  'dataset-stale',
  'dead-letter',
  'subscription-disabled',
  'threshold-crossed',
] as const;

export type AlertKind = (typeof alertKinds)[number];

export const alertSchema = z.object({
  kind: z.enum(alertKinds),
  severity: z.enum(['error', 'warning']),
  /** The dataset or model concerned, when there is one. */
  subject: z.string().optional(),
  runId: z.string().optional(),
  /** One line: what failed. */
  title: z.string(),
  /** Why, with where (file, row, field) when known. */
  message: z.string(),
  /** What to do about it. */
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export type Alert = z.infer<typeof alertSchema>;

/** An alert as the bus carries it: id is its ops.alerts row (null when the database could not record it). */
export const raisedAlertSchema = alertSchema.extend({ id: z.string().nullable() });

export type RaisedAlert = z.infer<typeof raisedAlertSchema>;
