/** The stages of the data cycle, in the order data goes through them. */
export * from './collect';
export * from './ingest';
export * from './transform';
export * from './publish';
