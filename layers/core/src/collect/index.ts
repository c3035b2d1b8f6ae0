import { z } from 'zod';

export { collectHttpSource, dropInLanding } from './http-source';
export { collectApiSource, collectWfsSource } from './api-source';
export { collectUdataSource } from './udata-source';
export { collectSource } from './collect-source';
export {
  receivePush,
  signPush,
  pushRequestSchema,
  PUSH_MAX_BYTES,
  PUSH_TOLERANCE_SECONDS,
  UPLOAD_MAX_BYTES,
  UPLOAD_URL_SECONDS,
} from './push';
export type { PresignPut, PushRequest, PushResponse, UploadGrant } from './push';
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

/** PUSH_SECRETS of the push function: dataset id → ARN of its push secret. */
export const pushSecretsSchema = z.record(z.string(), z.string());
