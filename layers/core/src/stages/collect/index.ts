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
export type { PresignPut, PushRequest, PushResponse, SecretCheck, UploadGrant } from './push';
export type { CollectContext, CollectOutcome } from './http-source';
