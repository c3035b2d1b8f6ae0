import { z } from 'zod';

export { collectHttpSource, USER_AGENT } from './http-source';
export type { CollectContext, CollectOutcome } from './http-source';

/** Input of the collect function, set on each schedule's EventBridge rule target. */
export const collectRequestSchema = z.object({
  dataset: z.string().min(1),
  source: z.number().int().nonnegative(),
});
export type CollectRequest = z.infer<typeof collectRequestSchema>;
