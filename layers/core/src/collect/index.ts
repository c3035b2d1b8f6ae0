import { z } from 'zod';

export { collectHttpSource, dropInLanding } from './http-source';
export { collectApiSource, collectWfsSource } from './api-source';
export { collectUdataSource } from './udata-source';
export { collectSource } from './collect-source';
export type { CollectContext, CollectOutcome } from './http-source';
export { httpGet, retryAfterMs, defaultHttpPolicy, TransientHttpError, USER_AGENT } from './http-client';
export type { HttpPolicy, HttpResponse, GetOptions } from './http-client';

/** Input of the collect function, set on each schedule's EventBridge rule target. */
export const collectRequestSchema = z.object({
  dataset: z.string().min(1),
  source: z.number().int().nonnegative(),
  /** Backfill: start an incremental source from this cursor ("" for everything) instead of the stored one. */
  from: z.string().optional(),
});
export type CollectRequest = z.infer<typeof collectRequestSchema>;
