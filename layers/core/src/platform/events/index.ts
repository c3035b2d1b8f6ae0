export {
  alertKinds,
  alertSchema,
  raisedAlertSchema,
  type Alert,
  type AlertKind,
  type RaisedAlert,
} from './alert';
export {
  EVENT_SOURCE,
  busEnvelopeSchema,
  busEvents,
  datasetLoadedSchema,
  datasetTransformedSchema,
  outputsPublishedSchema,
  pipelineEvents,
  publishEvent,
  type BusEnvelope,
  type BusEventDetail,
  type BusEventType,
  type EventBus,
} from './bus';
export {
  collectRequestSchema,
  DELIVERY_BUNDLE_SIZE,
  deliveryMessageSchema,
  queueMessages,
  type CollectRequest,
  type DeliveryAttempt,
  type DeliveryMessage,
  type SingleDeliveryMessage,
  type QueueMessage,
  type QueueName,
} from './queue-messages';
export { raiseAlert, type AlertContext } from './raise-alert';
export {
  ingestMessageSchema,
  s3EventRecordSchema,
  s3EventSchema,
  s3TestEventSchema,
  type IngestRequest,
  type S3EventRecord,
} from './s3-notifications';
export {
  PAYLOAD_VERSION,
  alertDataSchema,
  publishedDataSchema,
  thresholdDataSchema,
  webhookCatalog,
  webhookCatalogMarkdown,
  webhookEventTypes,
  webhookPayloadSchema,
  webhookTypesOfAlert,
  type WebhookEventType,
} from './webhook-catalog';
