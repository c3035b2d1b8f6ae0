import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * UTF-8 text held as its bytes, one JavaScript character per byte (what Buffer calls
 * 'latin1'). CSV files in UTF-8 are read this way for validation and loading: no decoding,
 * strings of one byte per character (V8 keeps any text with a character past U+00FF, such
 * as "€" or "—", at two bytes per character, and French data has them on most lines), and
 * the bytes written to COPY as they came. Structure (delimiters, quotes, line ends, COPY
 * escapes) is ASCII, which reads the same either way; what depends on the characters
 * themselves is checked on the decoded text (see utf8BytesReader in table-schema/cast.ts).
 */

/** The text spelled by UTF-8 bytes held one per character. */
export function fromUtf8Bytes(bytes: string): string {
  return isAscii(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The UTF-8 bytes of a text, one per character. */
export function toUtf8Bytes(text: string): string {
  return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

const NON_ASCII = /[\u0080-\uffff]/;

/** Only characters below 128 (the same text whether read as characters or as UTF-8 bytes). */
export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}

/**
 * The byte string of UTF-8 bytes, as the platform's decoder reads them: bytes that are not
 * UTF-8 become U+FFFD (then the text is decoded and encoded again). Whole lines only: a
 * character cut at the end would become U+FFFD too (CSV runs end with a newline, which no
 * character's bytes contain). With `bytes`, the byte string is exactly those bytes.
 */
export function utf8ByteString(bytes: Uint8Array): { text: string; bytes?: Uint8Array } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return { text: buffer.toString('latin1'), bytes };
  const repaired = new TextDecoder('utf-8', { ignoreBOM: true }).decode(buffer);
  return { text: Buffer.from(repaired, 'utf8').toString('latin1') };
}
