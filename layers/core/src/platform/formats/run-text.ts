import { TextDecoder } from 'node:util';
import { utf8ByteString } from '../text/utf8-bytes';
import type { Encoding } from './sniff';

/**
 * How a CSV run's bytes are read: UTF-8 as its bytes, one character per byte (see
 * utf8-bytes.ts), or decoded from UTF-8 or Windows-1252.
 */
export type RunReading = 'utf8-bytes' | Encoding;

/**
 * A run's text. `bytes`, when given, are the text's own bytes, one per character: encoders
 * copy unchanged cells from them rather than write the characters again.
 */
export interface RunText {
  text: string;
  bytes?: Uint8Array;
}

export type RunTextReader = (bytes: Uint8Array) => RunText;

/**
 * The reader of runs for a reading. Each run is decoded on its own: it holds whole records,
 * so no character spans two runs, and a byte order mark is only dropped at the start of the
 * file (by openCsv), not at the start of each run. Windows-1252 goes through iconv-lite,
 * loaded only then (the offline commands start faster without it).
 */
export async function runTextReader(reading: RunReading): Promise<RunTextReader> {
  if (reading === 'utf8-bytes') return utf8ByteString;
  if (reading === 'utf-8') {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return (bytes) => ({ text: decoder.decode(bytes) });
  }
  const { default: iconv } = await import('iconv-lite');
  return (bytes) => ({
    text: iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), reading, {
      stripBOM: false,
    }),
  });
}
