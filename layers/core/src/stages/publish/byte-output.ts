import { once } from 'node:events';
import type { Writable } from 'node:stream';

const HEX = '0123456789abcdef';

/**
 * Bytes written into buffers of 1 MiB, handed on whole: one write per batch of rows, and no
 * string in between. The writers of GeoJSON and of XLSX sheets build their output with it.
 */
export class ByteOutput {
  private buffer = Buffer.allocUnsafe(BLOCK);
  private position = 0;
  private readonly filled: Buffer[] = [];

  /** Room for `size` more bytes. */
  private room(size: number): void {
    if (this.position + size <= this.buffer.length) return;
    if (this.position > 0) this.filled.push(this.buffer.subarray(0, this.position));
    this.buffer = Buffer.allocUnsafe(Math.max(BLOCK, size));
    this.position = 0;
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

  copy(source: Buffer, start: number, length: number): void {
    this.room(length);
    const target = this.buffer;
    const at = this.position;
    if (length > 64) source.copy(target, at, start, start + length);
    else for (let index = 0; index < length; index++) target[at + index] = source[start + index]!;
    this.position = at + length;
  }

  /** UTF-8 text as a JSON string: quotes, backslashes and control characters escaped. */
  jsonString(source: Buffer, start: number, length: number): void {
    this.room(length * 6 + 2);
    const target = this.buffer;
    let at = this.position;
    target[at++] = 0x22;
    for (let index = start, end = start + length; index < end; index++) {
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
  xmlText(source: Buffer, start: number, length: number): void {
    this.room(length * 6);
    const target = this.buffer;
    let at = this.position;
    for (let index = start, end = start + length; index < end; index++) {
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
      this.buffer =
        this.buffer.length - this.position >= BLOCK / 4
          ? this.buffer.subarray(this.position)
          : Buffer.allocUnsafe(BLOCK);
      this.position = 0;
    }
    if (this.filled.length === 0) return undefined;
    const chunk = this.filled.length === 1 ? this.filled[0]! : Buffer.concat(this.filled);
    this.filled.length = 0;
    return chunk;
  }

  /** Hands what was written to the stream (waiting when it asks to). */
  async flushTo(out: Writable): Promise<void> {
    const chunk = this.take();
    if (chunk !== undefined && !out.write(chunk)) await once(out, 'drain');
  }
}

const BLOCK = 1024 * 1024;

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
