import { z } from 'zod';
import { busEnvelopeSchema } from './bus';
import { ingestMessageSchema } from './s3-notifications';

/** One attempt of one webhook delivery. */
const deliveryAttemptSchema = z.object({
  deliveryId: z.string(),
  /** Which attempt this message is for (0 first): a duplicate of an earlier one is dropped. */
  attempt: z.number().int().min(0),
});

/** Deliveries a fan-out puts in one message (their requests go out together, see attemptDeliveries). */
export const DELIVERY_BUNDLE_SIZE = 100;

/**
 * A message of the deliveries queue: one attempt of one delivery (a retry, a replay), possibly
 * not before a time; or the first attempts of a bundle of deliveries of one event (fan-out).
 */
export const deliveryMessageSchema = z.union([
  deliveryAttemptSchema.extend({
    /** Not before this time (ISO): SQS delays 15 minutes at most, a longer wait hops again. */
    notBefore: z.iso.datetime().optional(),
  }),
  z.object({ deliveries: z.array(deliveryAttemptSchema).min(1).max(DELIVERY_BUNDLE_SIZE) }),
]);

export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;
export type SingleDeliveryMessage = Extract<DeliveryMessage, { deliveryId: string }>;

/** Input of the collect function, set on each schedule's EventBridge rule target. */
export const collectRequestSchema = z.object({
  dataset: z.string().min(1),
  source: z.number().int().nonnegative(),
  /** Backfill: start an incremental source from this cursor ("" for everything) instead of the stored one. */
  from: z.string().optional(),
});

export type CollectRequest = z.infer<typeof collectRequestSchema>;

/**
 * What each queue carries, by queue: the consumers parse their messages with these (through
 * the one batch path, see consumeQueue), and tests build their fixtures from them.
 */
export const queueMessages = {
  /** Landing bucket notifications (S3 → SQS). */
  ingest: ingestMessageSchema,
  transform: busEnvelopeSchema('datacycle.dataset.loaded'),
  publish: busEnvelopeSchema('datacycle.dataset.transformed'),
  /** Bus events subscribers can hear of, before fan-out. */
  webhookEvents: z.discriminatedUnion('detail-type', [
    busEnvelopeSchema('datacycle.outputs.published'),
    busEnvelopeSchema('datacycle.alert'),
  ]),
  deliveries: deliveryMessageSchema,
  alerts: busEnvelopeSchema('datacycle.alert'),
} as const;

export type QueueName = keyof typeof queueMessages;
export type QueueMessage<Q extends QueueName> = z.infer<(typeof queueMessages)[Q]>;
