import type pg from 'pg';
import type { Alert } from './alert';
import { publishEvent, type EventBus } from './bus';

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
    await publishEvent(context.eventBus, 'datacycle.alert', { ...alert, id: id ?? null });
    return { id, published: true };
  } catch (error) {
    logAlertProblem('alert not published on the event bus', alert, error);
    return { id, published: false };
  }
}

function logAlertProblem(message: string, alert: Alert, error: unknown): void {
  console.error(JSON.stringify({ level: 'error', message, alert, error: String(error) }));
}
