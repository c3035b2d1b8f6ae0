export {
  attemptDelivery,
  attemptDeliveries,
  replayDeliveries,
  ReplayError,
  DELIVERY_TIMEOUT_MS,
  type DeliveryContext,
  type DeliveryOutcome,
} from './deliver';
export { webhookEventsOf, type PublicLinks, type WebhookEvent } from './events';
export { fanOut } from './fanout';
export { enqueueDeliveries, enqueueLater, type DeliveryQueue } from './queue';
export {
  createSigningSecret,
  readSigningSecret,
  rotateSigningSecret,
  webhookSecretPrefix,
  type SecretStore,
  type StoredSecret,
} from './secrets';
export { generateSecret, sign, signedHeaders, verifyWebhook, WebhookVerificationError } from './signing';
export {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  subscriptionInputSchema,
  subscriptionRules,
  subscriptionPatchSchema,
  SubscriptionError,
  syncProjectSubscriptions,
  updateSubscription,
  type Subscription,
  type SubscriptionContext,
} from './subscriptions';
export { handleDeliveryMessage } from './worker';
