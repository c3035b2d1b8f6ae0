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
 * Reads a UTF-8 byte stream into byte strings, piece by piece, as the platform's decoder
 * would read it into text: a leading byte order mark is dropped, and bytes that are not
 * UTF-8 become U+FFFD (from then on the stream is decoded and re-encoded, so the file is
 * still read, as text mode reads it).
 */
export function utf8ByteReader(): { write(chunk: Buffer): string; end(): string } {
  let start = true;
  /** The last bytes of the previous piece when they began a character that the next one ends. */
  let carry: Buffer | undefined;
  let repair: TextDecoder | undefined;
  const repaired = (bytes: Buffer, stream: boolean) =>
    Buffer.from(repair!.decode(bytes, { stream }), 'utf8').toString('latin1');
  return {
    write(chunk) {
      let bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = undefined;
      if (start && bytes.length > 0) {
        if (bytes.length < 3 && BOM.subarray(0, bytes.length).equals(bytes)) {
          carry = bytes; // too short to tell
          return '';
        }
        start = false;
        if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
      }
      if (repair) return repaired(bytes, true);
      const whole = completeLength(bytes);
      if (whole < bytes.length) carry = Buffer.from(bytes.subarray(whole));
      const piece = bytes.subarray(0, whole);
      if (isUtf8(piece)) return piece.toString('latin1');
      repair = new TextDecoder('utf-8', { ignoreBOM: true }); // the leading one is gone already
      const rest = carry;
      carry = undefined;
      return repaired(rest ? Buffer.concat([piece, rest]) : piece, true);
    },
    end() {
      if (!repair && !carry) return '';
      repair ??= new TextDecoder('utf-8', { ignoreBOM: true });
      const rest = carry ?? Buffer.alloc(0);
      carry = undefined;
      return repaired(rest, false);
    },
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Length of the bytes that end on a character boundary (an unfinished last character is left out). */
function completeLength(bytes: Buffer): number {
  // A character is at most 4 bytes: look back at most 3 for the lead byte of the last one.
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back]!;
    if (byte < 0x80) return bytes.length; // ASCII: complete
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return needed > back ? bytes.length - back : bytes.length;
    }
    // a continuation byte: keep looking for its lead
  }
  return bytes.length;
}
