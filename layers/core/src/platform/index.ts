/** The platform every stage stands on: what a data project declares, and the services of the cloud. */
export * from './config';
export * from './errors';
export * from './events';
export * from './formats';
export * from './lineage';
export * from './logging';
export * from './net';
export * from './project';
export * from './queues';
export * from './runs';
export * from './secrets';
export * from './storage';
export * from './table-schema';
export * from './text';
export * from './warehouse';
export * from './workers';
