import type pg from 'pg';
import { z } from 'zod';
import { EVENT_SOURCE, publishEvent, type EventBus } from '../events/bus';

/** What went wrong, as the data team sees it. */
export const alertKinds = [
  'collect-failed',
  'file-rejected',
  'run-failed',
  'test-failed',
  'dataset-stale',
  'dead-letter',
  'subscription-disabled',
] as const;

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

/** The EventBridge detail-type of alert events (rules match on it). */
export const ALERT_DETAIL_TYPE = 'datacycle.alert';
export { EVENT_SOURCE };

export interface AlertContext {
  pool: pg.Pool | pg.PoolClient;
  /** The stack's event bus; without one (local tools) alerts are only recorded. */
  eventBus?: EventBus;
}

/**
 * Records an alert in ops.alerts and publishes it on the event bus, from where the stack
 * routes it to the alert channels. Each half works without the other (the database may be
 * what failed; the bus may be unreachable): raising an alert never throws, so the step that
 * raised it ends as it would have. What could not be done is logged.
 */
export async function raiseAlert(
  context: AlertContext,
  alert: Alert,
): Promise<{ id?: string; published: boolean }> {
  let id: string | undefined;
  try {
    const { rows } = await context.pool.query<{ id: string }>(
      `INSERT INTO ops.alerts (kind, severity, subject, run_id, title, message, hint, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
      [
        alert.kind,
        alert.severity,
        alert.subject ?? null,
        alert.runId ?? null,
        alert.title,
        alert.message,
        alert.hint ?? null,
        JSON.stringify(alert.details ?? {}),
      ],
    );
    id = rows[0]?.id;
  } catch (error) {
    logAlertProblem('alert not recorded in ops.alerts', alert, error);
  }
  if (!context.eventBus) return { id, published: false };
  try {
    await publishEvent(context.eventBus, ALERT_DETAIL_TYPE, { ...alert, id: id ?? null });
    return { id, published: true };
  } catch (error) {
    logAlertProblem('alert not published on the event bus', alert, error);
    return { id, published: false };
  }
}

function logAlertProblem(message: string, alert: Alert, error: unknown): void {
  console.error(JSON.stringify({ level: 'error', message, alert, error: String(error) }));
}

/** The alert event as a rule delivers it (an EventBridge event, detail = the alert). */
export const alertEventSchema = z.object({
  'detail-type': z.literal(ALERT_DETAIL_TYPE),
  time: z.string().optional(),
  /** id: the ops.alerts row (null when the database could not record it). */
  detail: alertSchema.extend({ id: z.string().nullable() }),
});

export type AlertEvent = z.infer<typeof alertEventSchema>;
export { deliverAlert, emailMessage, webhookMessage, type AlertChannel } from './deliver';
