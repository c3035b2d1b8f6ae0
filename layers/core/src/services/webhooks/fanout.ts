import type pg from 'pg';
import type { WebhookEvent } from './events';
import { enqueueDeliveries, type DeliveryQueue } from './queue';

/**
 * One delivery per (event, subscription): every enabled subscription to the event's type
 * (and dataset, when it filters) gets a row in ops.deliveries and a message on the deliveries
 * queue. A duplicate event finds its rows already there: delivered once per subscription.
 * Returns the deliveries enqueued.
 */
export async function fanOut(
  context: { pool: pg.Pool; queue: DeliveryQueue },
  events: WebhookEvent[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const event of events) {
    await context.pool.query(
      `INSERT INTO ops.deliveries (id, subscription_id, event_id, event_type, payload, status, next_attempt_at)
       SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), s.id, $1, $2, $3, 'pending', now()
       FROM ops.subscriptions s
       WHERE s.enabled AND $2 = ANY (s.event_types) AND (s.datasets IS NULL OR $4 = ANY (s.datasets))
       ON CONFLICT (event_id, subscription_id) DO NOTHING`,
      [event.id, event.type, JSON.stringify(event.payload), event.dataset ?? null],
    );
    // Every first attempt not made yet, including those of an earlier try at this event
    // whose messages may not have left (the attempt number drops duplicates).
    const { rows } = await context.pool.query<{ id: string }>(
      `SELECT id FROM ops.deliveries WHERE event_id = $1 AND status = 'pending' AND attempts = 0`,
      [event.id],
    );
    ids.push(...rows.map((row) => row.id));
  }
  await enqueueDeliveries(
    context.queue,
    ids.map((deliveryId) => ({ deliveryId, attempt: 0 })),
  );
  return ids;
}
