/** The services built on the stages: read API, webhooks, alerts, monitoring, backups. */
export * from './api';
export * from './webhooks';
export * from './alerts';
export * from './monitor';
export * from './backup';
export * from './deploy';
