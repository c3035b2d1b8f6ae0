import type pg from 'pg';
import { DELIVERY_BUNDLE_SIZE, type DeliveryMessage } from '../../platform/events';
import type { WebhookEvent } from './events';
import { enqueueDeliveries, type DeliveryQueue } from './queue';

/**
 * One delivery per (event, subscription): every enabled subscription to the event's type
 * (and dataset, when it filters) gets a row in ops.deliveries, and its first attempt a place in
 * a bundle on the deliveries queue. A duplicate event finds its rows already there: delivered once per subscription.
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
  // First attempts go in bundles: one consumer sends a bundle's requests together.
  const bundles: DeliveryMessage[] = [];
  for (let start = 0; start < ids.length; start += DELIVERY_BUNDLE_SIZE)
    bundles.push({
      deliveries: ids
        .slice(start, start + DELIVERY_BUNDLE_SIZE)
        .map((deliveryId) => ({ deliveryId, attempt: 0 })),
    });
  await enqueueDeliveries(context.queue, bundles);
  return ids;
}
