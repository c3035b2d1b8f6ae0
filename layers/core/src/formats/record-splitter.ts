import { TerminalError } from '../errors';

/**
 * Cuts decoded CSV text into runs of whole records, so that each run can be parsed on its
 * own (in one synchronous call, a batch of rows at a time) and nothing is held but the
 * record in progress. It also guards what a streaming parser cannot: a quote that is never
 * closed (the rest of the file would become one cell) and a record longer than
 * `maxRecordChars` (memory). Quotes are counted as RFC 4180 writes them: a cell with a quote
 * is quoted, inner quotes doubled, so a newline outside quotes ends a record.
 */
export class RecordSplitter {
  private pending = '';
  /** Position in `pending` of the last newline outside quotes (-1: none yet). */
  private cut = -1;
  private inQuotes = false;
  private quoteOpenedAt = 0;
  /** Line number (1-based) of the first line of `pending`. */
  private line = 1;

  constructor(
    private readonly maxRecordChars: number,
    /** Text is handed out once at least this much has gathered (fewer, larger batches). */
    private readonly minRunChars = 32 * 1024,
  ) {}

  /**
   * Adds text; returns the whole records now complete, or undefined. A run keeps its final
   * newline (a parser reading `"quoted"\r` at the very end of its input would misread it),
   * so parsing it yields one empty record at the end, which is not data.
   */
  push(text: string): string | undefined {
    // Only the new text is scanned, while it is still a flat string: searching the
    // concatenation would copy it on every call.
    this.scan(text, this.pending.length);
    this.pending += text;
    if (this.pending.length - (this.cut + 1) > this.maxRecordChars) throw this.tooLong();
    if (this.cut === -1 || this.cut < this.minRunChars) return undefined;
    return this.take();
  }

  /** At the end of the text: the last records (ending with a newline or not). */
  end(): string | undefined {
    if (this.inQuotes) {
      throw new TerminalError(
        `unbalanced quotes: the quote opened at line ${this.lineAt(this.quoteOpenedAt)} is never closed`,
        'a cell containing " must be quoted, with each inner " doubled ("")',
      );
    }
    const rest = this.pending;
    this.pending = '';
    this.cut = -1;
    return rest === '' ? undefined : rest;
  }

  /** Line number of the first record of the text the next push or end hands out. */
  get firstLine(): number {
    return this.line;
  }

  /** Scans new text (at `offset` in pending) for quotes, moving `cut` to the last newline outside quotes. */
  private scan(text: string, offset: number): void {
    let i = 0;
    // Each search result is kept until passed, so every character is looked at once.
    let newline = text.indexOf('\n');
    while (i < text.length) {
      const quote = text.indexOf('"', i);
      if (this.inQuotes) {
        if (quote === -1) break;
        this.inQuotes = false;
        i = quote + 1;
        continue;
      }
      const end = quote === -1 ? text.length : quote;
      if (newline !== -1 && newline < i) newline = text.indexOf('\n', i);
      while (newline !== -1 && newline < end) {
        this.cut = offset + newline;
        newline = text.indexOf('\n', newline + 1);
      }
      if (quote === -1) break;
      this.inQuotes = true;
      this.quoteOpenedAt = offset + quote;
      i = quote + 1;
    }
  }

  private take(): string {
    const cut = this.cut;
    const records = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    this.quoteOpenedAt -= cut + 1;
    this.cut = -1;
    this.line += countNewlines(records);
    return records;
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

export function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
