import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { copyBytes } from '../../platform/text/copy-bytes';

const HEX = '0123456789abcdef';

/**
 * Bytes written into buffers of 1 MiB, handed on whole: one write per batch of rows, and no
 * string in between. The writers of GeoJSON and of XLSX sheets build their output with it.
 */
export class ByteOutput {
  private buffer: Buffer = Buffer.allocUnsafe(BLOCK);
  private view = viewOf(this.buffer);
  private position = 0;
  private readonly filled: Buffer[] = [];

  /** Room for `size` more bytes. */
  private room(size: number): void {
    if (this.position + size <= this.buffer.length) return;
    if (this.position > 0) this.filled.push(this.buffer.subarray(0, this.position));
    this.use(Buffer.allocUnsafe(Math.max(BLOCK, size)));
  }

  private use(buffer: Buffer): void {
    this.buffer = buffer;
    this.view = viewOf(buffer);
    this.position = 0;
  }

  /**
   * Markup written many times (keys, tags), four bytes at a time. Its last word may write up
   * to three bytes past its end, which the next write covers (room is asked for them).
   */
  markup(markup: Markup): void {
    const { words, length } = markup;
    this.room(length + 3);
    const view = this.view;
    const at = this.position;
    for (let index = 0; index < words.length; index++) view.setInt32(at + 4 * index, words[index]!, true);
    this.position = at + length;
  }

  bytes(bytes: Buffer): void {
    const length = bytes.length;
    this.room(length);
    const target = this.buffer;
    const at = this.position;
    // Most are a few bytes of markup: a loop beats set()'s call for them.
    if (length > 32) target.set(bytes, at);
    else for (let index = 0; index < length; index++) target[at + index] = bytes[index]!;
    this.position = at + length;
  }

  ascii(text: string): void {
    this.room(text.length);
    this.position += this.buffer.write(text, this.position, 'latin1');
  }

  /** Bytes of a source (a COPY batch), four at a time: most cells are a few dozen bytes. */
  copy({ buffer: source, view: from }: ByteSource, start: number, length: number): void {
    this.room(length);
    const target = this.buffer;
    const at = this.position;
    if (length > 64) source.copy(target, at, start, start + length);
    else copyBytes(from, start, this.view, at, length);
    this.position = at + length;
  }

  /** UTF-8 text as a JSON string: quotes, backslashes and control characters escaped. */
  jsonString({ buffer: source, view: from }: ByteSource, start: number, length: number): void {
    this.room(length * 6 + 2);
    const target = this.buffer;
    const to = this.view;
    let at = this.position;
    target[at++] = 0x22;
    for (let index = start, end = start + length; index < end; index++) {
      // Four bytes at once while none needs escaping (most text): one test for the four.
      if (index + 4 <= end) {
        const word = from.getInt32(index, true);
        if (((below(word, 0x20202020) | zeroByte(word ^ 0x22222222) | zeroByte(word ^ 0x5c5c5c5c)) & HIGH_BITS) === 0) {
          to.setInt32(at, word, true);
          at += 4;
          index += 3;
          continue;
        }
      }
      const byte = source[index]!;
      if (byte >= 0x20 && byte !== 0x22 && byte !== 0x5c) {
        target[at++] = byte;
        continue;
      }
      target[at++] = 0x5c;
      if (byte === 0x22 || byte === 0x5c) target[at++] = byte;
      else if (byte === 0x0a)
        target[at++] = 0x6e; // \n
      else if (byte === 0x0d)
        target[at++] = 0x72; // \r
      else if (byte === 0x09)
        target[at++] = 0x74; // \t
      else if (byte === 0x08)
        target[at++] = 0x62; // \b
      else if (byte === 0x0c)
        target[at++] = 0x66; // \f
      else {
        target[at++] = 0x75; // \u00XX
        target[at++] = 0x30;
        target[at++] = 0x30;
        target[at++] = HEX.charCodeAt(byte >> 4);
        target[at++] = HEX.charCodeAt(byte & 15);
      }
    }
    target[at++] = 0x22;
    this.position = at;
  }

  /**
   * UTF-8 text as XML character data (in an element, or an attribute's quotes): markup
   * escaped, and the control characters XML 1.0 cannot carry dropped.
   */
  xmlText({ buffer: source, view: from }: ByteSource, start: number, length: number): void {
    this.room(length * 6);
    const target = this.buffer;
    const to = this.view;
    let at = this.position;
    for (let index = start, end = start + length; index < end; index++) {
      // Four bytes at once while none is markup, a control character or 0xEF (which starts
      // U+FFFE and U+FFFF): one test for the four.
      if (index + 4 <= end) {
        const word = from.getInt32(index, true);
        if (
          ((below(word, 0x20202020) |
            zeroByte(word ^ 0x22222222) |
            zeroByte(word ^ 0x26262626) |
            zeroByte(word ^ 0x3c3c3c3c) |
            zeroByte(word ^ 0x3e3e3e3e) |
            zeroByte(word ^ 0xefefefef)) &
            HIGH_BITS) ===
          0
        ) {
          to.setInt32(at, word, true);
          at += 4;
          index += 3;
          continue;
        }
      }
      const byte = source[index]!;
      if (byte > 0x3e) {
        // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters either.
        if (byte === 0xef && source[index + 1] === 0xbf && source[index + 2]! >= 0xbe && index + 2 < end) {
          index += 2;
          continue;
        }
        target[at++] = byte;
        continue;
      }
      if (byte >= 0x20 && byte !== 0x26 && byte !== 0x3c && byte !== 0x3e && byte !== 0x22) {
        target[at++] = byte;
        continue;
      }
      const escaped = xmlEscapes[byte];
      if (escaped === undefined) continue; // a control character XML 1.0 forbids
      for (let k = 0; k < escaped.length; k++) target[at++] = escaped[k]!;
    }
    this.position = at;
  }

  /** What was written since the last take, as one buffer (undefined when nothing was). */
  take(): Buffer | undefined {
    if (this.position > 0) {
      this.filled.push(this.buffer.subarray(0, this.position));
      this.use(
        this.buffer.length - this.position >= BLOCK / 4
          ? this.buffer.subarray(this.position)
          : Buffer.allocUnsafe(BLOCK),
      );
    }
    if (this.filled.length === 0) return undefined;
    const chunk = this.filled.length === 1 ? this.filled[0]! : Buffer.concat(this.filled);
    this.filled.length = 0;
    return chunk;
  }

  /**
   * The blocks of 1 MiB filled so far, as they are (no copy), the one being written kept:
   * for a consumer that works in blocks (the XLSX sheet's deflate).
   */
  takeFilled(): Buffer[] {
    return this.filled.splice(0);
  }

  /**
   * Hands the filled blocks to the stream, keeping the one being written (waiting when it
   * asks to): writes of 1 MiB rather than one per COPY batch, a tenth of them, each going
   * through the stream's steps (hash, file or upload).
   */
  async flushFilledTo(out: Writable): Promise<void> {
    let room = true;
    for (const block of this.takeFilled()) room = out.write(block);
    if (!room) await once(out, 'drain');
  }

  /** Hands what was written to the stream (waiting when it asks to). */
  async flushTo(out: Writable): Promise<void> {
    const chunk = this.take();
    if (chunk !== undefined && !out.write(chunk)) await once(out, 'drain');
  }
}

const BLOCK = 1024 * 1024;

/** Bytes read four at a time: a COPY batch's buffer and a view of it. */
export interface ByteSource {
  buffer: Buffer;
  view: DataView;
}

export const viewOf = (buffer: Buffer) => new DataView(buffer.buffer, buffer.byteOffset, buffer.length);

/** Bytes written many times, kept as little-endian 32-bit words (the last padded). */
export class Markup {
  readonly words: Int32Array;
  readonly length: number;

  constructor(bytes: Buffer | string) {
    const source = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const padded = Buffer.alloc(Math.ceil(source.length / 4) * 4);
    source.copy(padded);
    this.words = new Int32Array(padded.length / 4);
    for (let index = 0; index < this.words.length; index++) this.words[index] = padded.readInt32LE(4 * index);
    this.length = source.length;
  }
}

// Word-at-a-time tests (bit twiddling): a byte's high bit is set in the result's
// HIGH_BITS when that byte is zero (zeroByte) or below the bound's byte (below, bounds up to
// 0x80): exact as a yes-or-no for the whole word, which is all that is asked of them.
const HIGH_BITS = 0x80808080 | 0;
const zeroByte = (word: number) => (word - 0x01010101) & ~word;
const below = (word: number, bounds: number) => (word - bounds) & ~word;

/** XML's escapes of the ASCII bytes that need one: tab, newline and return pass as they are. */
const xmlEscapes: (Buffer | undefined)[] = Array.from({ length: 0x3f }, (_, byte) =>
  byte === 0x09 || byte === 0x0a || byte === 0x0d
    ? Buffer.from([byte])
    : byte === 0x26
      ? Buffer.from('&amp;')
      : byte === 0x3c
        ? Buffer.from('&lt;')
        : byte === 0x3e
          ? Buffer.from('&gt;')
          : byte === 0x22
            ? Buffer.from('&quot;')
            : byte < 0x20
              ? undefined
              : Buffer.from([byte]),
);
