import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** Passes bytes through, counting them and hashing them (sha256) on the way. */
export class MeasuredStream extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor() {
    // Room for 1 MiB each side (16 KiB by default): the producer (COPY, a writer) rarely
    // waits for the consumer (a file, an upload), and the reverse.
    super({ highWaterMark: 1024 * 1024 });
  }

  override _transform(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error: null, chunk: Buffer) => void,
  ) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    callback(null, buffer);
  }

  /** The sha256 of everything that went through (call once, at the end). */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
