import { TerminalError } from '../errors/errors';

/** Whole CSV records cut from a file, still as the file's bytes, with where they sit in it. */
export interface CsvRun {
  /**
   * The records' bytes (see runTextReader for their text), over an ArrayBuffer of their own so
   * that they can be handed to a validation worker without a copy; every run but the file's
   * last ends with a newline.
   */
  bytes: Uint8Array;
  /** Line (1-based) of its first character. */
  firstLine: number;
  /** Its newlines, inside quoted cells or not. */
  newlines: number;
  /** Row number (1-based, the header being row 1) of its first record. */
  firstRow: number;
  /** Its records, as parseCsvRecords reads them (blank lines included). */
  records: number;
}

/**
 * Cuts a CSV byte stream into runs of whole records, so that each run can be decoded and
 * parsed on its own (in one synchronous call, a batch of rows at a time, possibly in another
 * thread) and nothing is held but the record in progress. It counts records as the parser
 * reads them, so that each run knows its row numbers before it is parsed. It also guards
 * what a streaming parser cannot: a quote that is never closed (the rest of the file would
 * become one cell) and a record longer than `maxRecordBytes` (memory).
 *
 * It works on bytes, before any decoding: in UTF-8 and Windows-1252 alike, the delimiter,
 * the quote and the newline are single ASCII bytes that no other character contains, so a
 * run ends where a character does. The reading thread then only searches and copies bytes;
 * decoding is left to whoever parses the run (a validation worker, mostly), and bytes cross
 * threads as a transfer where a string would be copied twice (1M IRVE rows: see
 * docs/benchmarks.md).
 *
 * Quotes are read as parseCsvRecords reads them: a quote opens a quoted cell only at the
 * start of a cell (at the start of a line or right after the delimiter); inside, a doubled
 * quote is a quote; a quote anywhere else is text. So a newline outside quoted cells ends a
 * record.
 */
export class RecordSplitter {
  /** The bytes not handed out yet, in the pieces they came in. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Position in the pending bytes of the last newline outside quotes (-1: none yet). */
  private cut = -1;
  /** Records ended (by a newline outside quotes) in the pending bytes: all before `cut`. */
  private pendingRecords = 0;
  private inQuotes = false;
  /** Inside quotes, the bytes so far end with a quote: it closes the cell unless a quote follows. */
  private quoteEndsText = false;
  /** The last byte scanned (a newline before the first: the file starts a cell). */
  private lastCode = NEWLINE;
  private quoteOpenedAt = 0;
  /** Line number (1-based) of the first line of the pending bytes. */
  private line = 1;
  /** Row number of the first record of the pending bytes. */
  private row = 1;
  private readonly delimiterCode: number;
  /** Buffers of runs done with, for the next runs (see recycle). */
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    delimiter: string,
    private readonly maxRecordBytes: number,
    /** Bytes are handed out once at least this many have gathered (fewer, larger batches). */
    private readonly minRunBytes = 32 * 1024,
  ) {
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /**
   * Adds bytes (which the caller must not change afterwards); returns the whole records now
   * complete, or undefined. A run keeps its final newline (a parser reading `"quoted"\r` at
   * the very end of its input would misread it), so parsing it yields one empty record at
   * the end, which is not data.
   */
  push(bytes: Buffer): CsvRun | undefined {
    if (bytes.length === 0) return undefined;
    this.scan(bytes, this.pendingBytes);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes - (this.cut + 1) > this.maxRecordBytes) throw this.tooLong();
    if (this.cut === -1 || this.cut < this.minRunBytes) return undefined;
    const cut = this.cut;
    const run = this.run(this.take(cut + 1), this.pendingRecords);
    this.quoteOpenedAt -= cut + 1;
    this.cut = -1;
    this.pendingRecords = 0;
    return run;
  }

  /** At the end of the bytes: the last records (ending with a newline or not). */
  end(): CsvRun | undefined {
    if (this.inQuotes && !this.quoteEndsText) {
      throw new TerminalError(
        `unbalanced quotes: the quote opened at line ${this.lineAt(this.quoteOpenedAt)} is never closed`,
        'a cell containing " must be quoted, with each inner " doubled ("")',
      );
    }
    if (this.pendingBytes === 0) return undefined;
    const ended = this.pending[this.pending.length - 1]!;
    const records = this.pendingRecords + (ended[ended.length - 1] === NEWLINE ? 0 : 1);
    const run = this.run(this.take(this.pendingBytes), records);
    this.cut = -1;
    this.pendingRecords = 0;
    return run;
  }

  /**
   * Takes back the bytes of a run that nothing reads any more (parsed, validated, not to be
   * read again), to hold a later run. A run's bytes come and go between threads: allocated
   * anew for each run, they made the reading thread collect its garbage in full, as often
   * as every few megabytes (1M IRVE rows: 0.8 s); a few dozen buffers go round instead.
   */
  recycle(run: CsvRun): void {
    const { buffer } = run.bytes;
    if (buffer instanceof ArrayBuffer && buffer.byteLength === RUN_BUFFER_BYTES && this.spare.length < MAX_SPARE)
      this.spare.push(buffer);
  }

  /** The first `length` pending bytes, copied into a buffer of their own; the rest stays pending. */
  private take(length: number): Uint8Array {
    const taken =
      length > RUN_BUFFER_BYTES
        ? new Uint8Array(length)
        : new Uint8Array(this.spare.pop() ?? new ArrayBuffer(RUN_BUFFER_BYTES), 0, length);
    let at = 0;
    let index = 0;
    for (; at < length; index++) {
      const piece = this.pending[index]!;
      const used = Math.min(piece.length, length - at);
      piece.copy(taken, at, 0, used);
      at += used;
      if (used < piece.length) {
        this.pending[index] = piece.subarray(used);
        break;
      }
    }
    this.pending = index === 0 ? this.pending : this.pending.slice(index);
    this.pendingBytes -= length;
    return taken;
  }

  private run(bytes: Uint8Array, records: number): CsvRun {
    const newlines = countNewlines(bytes);
    const run = { bytes, firstLine: this.line, newlines, firstRow: this.row, records };
    this.line += newlines;
    this.row += records;
    return run;
  }

  /**
   * Scans new bytes (at `offset` in the pending bytes) for quotes that open or close a quoted
   * cell, counting the newlines outside them and moving `cut` to the last one.
   */
  private scan(bytes: Buffer, offset: number): void {
    let i = 0;
    if (this.quoteEndsText) {
      this.quoteEndsText = false;
      if (bytes[0] === QUOTE)
        i = 1; // a doubled quote split between two pieces
      else this.inQuotes = false;
    }
    // Each search result is kept until passed, so every byte is looked at once.
    let newline = bytes.indexOf(NEWLINE, i);
    while (i < bytes.length) {
      const quote = bytes.indexOf(QUOTE, i);
      if (this.inQuotes) {
        if (quote === -1) break;
        if (quote === bytes.length - 1) {
          this.quoteEndsText = true;
          break;
        }
        if (bytes[quote + 1] === QUOTE) i = quote + 2;
        else {
          this.inQuotes = false;
          i = quote + 1;
        }
        continue;
      }
      const end = quote === -1 ? bytes.length : quote;
      if (newline !== -1 && newline < i) newline = bytes.indexOf(NEWLINE, i);
      while (newline !== -1 && newline < end) {
        this.cut = offset + newline;
        this.pendingRecords++;
        newline = bytes.indexOf(NEWLINE, newline + 1);
      }
      if (quote === -1) break;
      const before = quote === 0 ? this.lastCode : bytes[quote - 1];
      if (before === NEWLINE || before === this.delimiterCode) {
        this.inQuotes = true;
        this.quoteOpenedAt = offset + quote;
      }
      i = quote + 1;
    }
    this.lastCode = bytes[bytes.length - 1]!;
  }

  private lineAt(position: number): number {
    let newlines = 0;
    for (const piece of this.pending) {
      if (position <= 0) break;
      newlines += countNewlines(piece.subarray(0, position));
      position -= piece.length;
    }
    return this.line + newlines;
  }

  private tooLong(): TerminalError {
    const start = this.inQuotes ? this.quoteOpenedAt : this.cut + 1;
    return new TerminalError(
      `a record starting near line ${this.lineAt(start)} is longer than ${this.maxRecordBytes} bytes`,
      this.inQuotes
        ? 'a quote is probably never closed: check quotes around that line'
        : 'split very long cells, or send this data in another format',
    );
  }
}

const QUOTE = 34;
const NEWLINE = 10;
/**
 * The buffer a run is copied into, unless it is longer: runs end once 32 KiB have gathered,
 * in a piece of at most 16 KiB (see openCsv), so most fit.
 */
const RUN_BUFFER_BYTES = 64 * 1024;
/** Spare run buffers kept at most: more than the jobs a validation pool has in flight. */
const MAX_SPARE = 64;

/** The newlines of a text, or of its bytes. */
export function countNewlines(text: string | Uint8Array): number {
  let count = 0;
  if (typeof text === 'string') {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
    return count;
  }
  // Buffer's search (memchr), not the typed array's.
  const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return count;
}
