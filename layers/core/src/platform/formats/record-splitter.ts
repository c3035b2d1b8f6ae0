import { TerminalError } from '../errors/errors';

/** Whole CSV records cut from a file, with where they sit in it. */
export interface CsvRun {
  /** The records' text; every run but the file's last ends with a newline. */
  text: string;
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
 * Cuts decoded CSV text into runs of whole records, so that each run can be parsed on its
 * own (in one synchronous call, a batch of rows at a time, possibly in another thread) and
 * nothing is held but the record in progress. It counts records as the parser reads them,
 * so that each run knows its row numbers before it is parsed. It also guards what a
 * streaming parser cannot: a quote that is never closed (the rest of the file would become
 * one cell) and a record longer than `maxRecordChars` (memory).
 *
 * Quotes are read as parseCsvRecords reads them: a quote opens a quoted cell only at the
 * start of a cell (at the start of a line or right after the delimiter); inside, a doubled
 * quote is a quote; a quote anywhere else is text. So a newline outside quoted cells ends a
 * record.
 */
export class RecordSplitter {
  private pending = '';
  /** Position in `pending` of the last newline outside quotes (-1: none yet). */
  private cut = -1;
  /** Records ended (by a newline outside quotes) in `pending`: all before `cut`. */
  private pendingRecords = 0;
  private inQuotes = false;
  /** Inside quotes, the text so far ends with a quote: it closes the cell unless a quote follows. */
  private quoteEndsText = false;
  /** The last character scanned (a newline before the first: the file starts a cell). */
  private lastCode = NEWLINE;
  private quoteOpenedAt = 0;
  /** Line number (1-based) of the first line of `pending`. */
  private line = 1;
  /** Row number of the first record of `pending`. */
  private row = 1;
  private readonly delimiterCode: number;

  constructor(
    delimiter: string,
    private readonly maxRecordChars: number,
    /** Text is handed out once at least this much has gathered (fewer, larger batches). */
    private readonly minRunChars = 32 * 1024,
  ) {
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /**
   * Adds text; returns the whole records now complete, or undefined. A run keeps its final
   * newline (a parser reading `"quoted"\r` at the very end of its input would misread it),
   * so parsing it yields one empty record at the end, which is not data.
   */
  push(text: string): CsvRun | undefined {
    if (text === '') return undefined;
    // Only the new text is scanned, while it is still a flat string: searching the
    // concatenation would copy it on every call.
    this.scan(text, this.pending.length);
    this.pending += text;
    if (this.pending.length - (this.cut + 1) > this.maxRecordChars) throw this.tooLong();
    if (this.cut === -1 || this.cut < this.minRunChars) return undefined;
    const cut = this.cut;
    const run = this.run(this.pending.slice(0, cut + 1), this.pendingRecords);
    this.pending = this.pending.slice(cut + 1);
    this.quoteOpenedAt -= cut + 1;
    this.cut = -1;
    this.pendingRecords = 0;
    return run;
  }

  /** At the end of the text: the last records (ending with a newline or not). */
  end(): CsvRun | undefined {
    if (this.inQuotes && !this.quoteEndsText) {
      throw new TerminalError(
        `unbalanced quotes: the quote opened at line ${this.lineAt(this.quoteOpenedAt)} is never closed`,
        'a cell containing " must be quoted, with each inner " doubled ("")',
      );
    }
    const rest = this.pending;
    if (rest === '') return undefined;
    const run = this.run(rest, this.pendingRecords + (rest.endsWith('\n') ? 0 : 1));
    this.pending = '';
    this.cut = -1;
    this.pendingRecords = 0;
    return run;
  }

  private run(text: string, records: number): CsvRun {
    const newlines = countNewlines(text);
    const run = { text, firstLine: this.line, newlines, firstRow: this.row, records };
    this.line += newlines;
    this.row += records;
    return run;
  }

  /**
   * Scans new text (at `offset` in pending) for quotes that open or close a quoted cell,
   * counting the newlines outside them and moving `cut` to the last one.
   */
  private scan(text: string, offset: number): void {
    let i = 0;
    if (this.quoteEndsText) {
      this.quoteEndsText = false;
      if (text.charCodeAt(0) === QUOTE)
        i = 1; // a doubled quote split between two pieces
      else this.inQuotes = false;
    }
    // Each search result is kept until passed, so every character is looked at once.
    let newline = text.indexOf('\n', i);
    while (i < text.length) {
      const quote = text.indexOf('"', i);
      if (this.inQuotes) {
        if (quote === -1) break;
        if (quote === text.length - 1) {
          this.quoteEndsText = true;
          break;
        }
        if (text.charCodeAt(quote + 1) === QUOTE) i = quote + 2;
        else {
          this.inQuotes = false;
          i = quote + 1;
        }
        continue;
      }
      const end = quote === -1 ? text.length : quote;
      if (newline !== -1 && newline < i) newline = text.indexOf('\n', i);
      while (newline !== -1 && newline < end) {
        this.cut = offset + newline;
        this.pendingRecords++;
        newline = text.indexOf('\n', newline + 1);
      }
      if (quote === -1) break;
      const before = quote === 0 ? this.lastCode : text.charCodeAt(quote - 1);
      if (before === NEWLINE || before === this.delimiterCode) {
        this.inQuotes = true;
        this.quoteOpenedAt = offset + quote;
      }
      i = quote + 1;
    }
    this.lastCode = text.charCodeAt(text.length - 1);
  }

  private lineAt(position: number): number {
    return this.line + countNewlines(this.pending.slice(0, position));
  }

  private tooLong(): TerminalError {
    const start = this.inQuotes ? this.quoteOpenedAt : this.cut + 1;
    return new TerminalError(
      `a record starting near line ${this.lineAt(start)} is longer than ${this.maxRecordChars} characters`,
      this.inQuotes
        ? 'a quote is probably never closed: check quotes around that line'
        : 'split very long cells, or send this data in another format',
    );
  }
}

const QUOTE = 34;
const NEWLINE = 10;

export function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
