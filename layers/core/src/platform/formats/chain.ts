import { pipeline, type Duplex, type Readable } from 'node:stream';

/**
 * Connects streams like `.pipe()`, but an error anywhere destroys the whole chain, so the
 * reader of the last stream sees it (`.pipe()` would leave it waiting forever).
 */
export function chain(source: Readable, ...steps: Duplex[]): Readable {
  return pipeline(source, ...(steps as [Duplex]), () => undefined) as unknown as Readable;
}
