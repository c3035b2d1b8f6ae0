/**
 * @datacycle/core — the domain library every function shares, deployed as a Lambda layer.
 * Grouped by concern; each folder's index.ts is its public surface.
 */
export * from './alerts';
export * from './api';
export * from './backup';
export * from './collect';
export * from './config';
export * from './errors';
export * from './events';
export * from './formats';
export * from './ingest';
export * from './monitor';
export * from './project';
export * from './publish';
export * from './runs';
export * from './storage';
export * from './table-schema';
export * from './transform';
export * from './warehouse';
export * from './webhooks';
export { runtime } from './runtime';
