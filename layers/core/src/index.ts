/**
 * @datacycle/core — the domain library every function shares, deployed as a Lambda layer.
 * Three groups, imported one way (checked by `npm run lint`, see .dependency-cruiser.cjs):
 *   platform  <-  stages (collect -> ingest -> transform -> publish)  <-  services
 * and the runtime that wires them for a deployed function. Each folder's index.ts is its
 * public surface and only exports.
 */
export * from './platform';
export * from './stages';
export * from './services';
export * from './runtime';
