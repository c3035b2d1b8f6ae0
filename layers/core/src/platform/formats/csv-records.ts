import { TerminalError } from '../errors/errors';
import { countNewlines, type CsvRun } from './record-splitter';
import type { RunTextReader } from './run-text';
import type { Delimiter } from './sniff';
import type { RowBatch, TableRow } from './table';

/**
 * Parses a run of whole CSV records (as RecordSplitter hands them out) into cells.
 *
 * Why not a library: papaparse read IRVE files correctly but spent 6.4 s on 1M rows (463 MB),
 * 2.1 s of it in garbage collection; this parser, which reads them into the same cells, takes
 * 2.7 s. The faster parsers we measured (uDSV, csv-simple-parser) force a fixed column count,
 * drop blank lines or misread `"x"\r\n`, and validation must see ragged rows exactly as
 * written. papaparse remains the oracle of the unit tests: same input, same cells.
 *
 * The dialect is RFC 4180 read the way papaparse reads it: a cell that starts with `"` is
 * quoted (inner quotes doubled, delimiters and newlines kept); whitespace between a closing
 * quote and the delimiter or newline is ignored (so `"x"\r\n` ends a record); a quote
 * anywhere else is text. Records end at "\n"; a trailing "\r" is the caller's to drop. Blank
 * lines are records of one empty cell.
 */
/**
 * The most cells a record may have. PostgreSQL tables take at most 1,600 columns and
 * spreadsheets 16,384: a longer record is a wrong delimiter or a broken file, and reading it
 * whole would cost memory in proportion (one line of 3 million cells took 1 GB).
 */
export const MAX_CELLS_PER_RECORD = 16_384;

export function parseCsvRecords(
  text: string,
  delimiter: string,
  /**
   * Filled, when given, with where each cell's value starts in `text`, in reading order: for
   * a quoted cell, right after its quote, or -1 when it held a doubled quote (not its bytes).
   */
  starts?: CellStarts,
): string[][] {
  const records: string[][] = [];
  if (text === '') return records;
  const delimiterCode = delimiter.charCodeAt(0);
  const end = text.length;
  // Positions of the next delimiter and newline, searched again only once passed: every
  // character is looked at by indexOf once, and cells are slices of the run (no copy; so a
  // cell kept past its batch keeps the whole run alive: keep a copy, as uniqueness checks do).
  let nextDelimiter = text.indexOf(delimiter);
  let nextNewline = text.indexOf('\n');
  // Each record is allocated with the previous one's length, and filled by index: most
  // records of a file have the same, and an array grown cell by cell is copied several times.
  let record: string[] = [];
  let cells = 0;
  let at = 0;
  for (;;) {
    if (text.charCodeAt(at) === QUOTE) {
      const closed = readQuoted(text, at);
      // Its bytes are the text between the quotes, unless a doubled quote was undone.
      starts?.add(closed.value.length === closed.next - at - 2 ? at + 1 : -1);
      record[cells++] = closed.value;
      if (cells > MAX_CELLS_PER_RECORD) throw new TooManyCells(at);
      at = closed.next;
      while (at < end && isBlank(text.charCodeAt(at), delimiterCode)) at++;
      if (at >= end) {
        records.push(ended(record, cells));
        return records;
      }
      const after = text.charCodeAt(at);
      if (after !== delimiterCode && after !== NEWLINE)
        throw new MalformedQuote(at, 'text after a closing quote');
      at++;
      if (nextDelimiter !== -1 && nextDelimiter < at) nextDelimiter = text.indexOf(delimiter, at);
      if (nextNewline !== -1 && nextNewline < at) nextNewline = text.indexOf('\n', at);
      if (after === NEWLINE) {
        records.push(ended(record, cells));
        record = new Array<string>(cells);
        cells = 0;
      }
      continue;
    }
    starts?.add(at);
    if (nextDelimiter !== -1 && (nextDelimiter < nextNewline || nextNewline === -1)) {
      record[cells++] = text.slice(at, nextDelimiter);
      if (cells > MAX_CELLS_PER_RECORD) throw new TooManyCells(at);
      at = nextDelimiter + 1;
      nextDelimiter = text.indexOf(delimiter, at);
      continue;
    }
    if (nextNewline === -1) break;
    record[cells++] = text.slice(at, nextNewline);
    records.push(ended(record, cells));
    record = new Array<string>(cells);
    cells = 0;
    at = nextNewline + 1;
    nextNewline = text.indexOf('\n', at);
  }
  // The last cell runs to the end of the text: after a final newline, a record of one empty
  // cell (as papaparse; callers drop it). (Its start was added above, with the loop's end.)
  record[cells++] = text.slice(at);
  records.push(ended(record, cells));
  return records;
}

/** A record of `cells` cells, allocated for another count. */
function ended(record: string[], cells: number): string[] {
  if (record.length !== cells) record.length = cells;
  return record;
}

/**
 * Where each cell of a run starts, in a typed array that grows by doubling: a plain array
 * would hold a tagged value per cell and grow from empty for every run.
 */
export class CellStarts {
  private starts: Int32Array;
  private count = 0;

  constructor(expected: number) {
    this.starts = new Int32Array(Math.max(16, expected));
  }

  add(start: number): void {
    if (this.count === this.starts.length) {
      const larger = new Int32Array(this.starts.length * 2);
      larger.set(this.starts);
      this.starts = larger;
    }
    this.starts[this.count++] = start;
  }

  /** The starts added, in order. */
  values(): Int32Array {
    return this.starts.subarray(0, this.count);
  }
}

/** A quote that RFC 4180 does not allow; `position` is its offset in the run. */
/** A record with more than MAX_CELLS_PER_RECORD cells, found at `position` of the run. */
export class TooManyCells extends Error {
  constructor(readonly position: number) {
    super(`more than ${MAX_CELLS_PER_RECORD.toLocaleString('en')} cells on one record`);
  }
}

export class MalformedQuote extends Error {
  constructor(
    readonly position: number,
    reason: string,
  ) {
    super(reason);
  }
}

const QUOTE = 34;
const NEWLINE = 10;

/** The quoted cell opening at `open`: its value (doubled quotes undone) and the offset after its closing quote. */
function readQuoted(text: string, open: number): { value: string; next: number } {
  let from = open + 1;
  let value = '';
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) throw new MalformedQuote(open, 'a quoted cell is never closed');
    if (text.charCodeAt(quote + 1) !== QUOTE) {
      value = value === '' ? text.slice(from, quote) : value + text.slice(from, quote);
      return { value, next: quote + 1 };
    }
    value += text.slice(from, quote + 1); // a doubled quote: keep one
    from = quote + 2;
  }
}

/** Whitespace allowed between a closing quote and what ends the cell (not the delimiter itself, nor the newline). */
function isBlank(code: number, delimiterCode: number): boolean {
  return code !== delimiterCode && code !== NEWLINE && (code === 32 || code === 9 || code === 13);
}

/**
 * Parses a run of records (from RecordSplitter) into a batch of numbered rows, its bytes read
 * by `read` (see runTextReader). The same wherever it runs: in the reading thread or in a
 * validation worker.
 */
export function parseCsvRun(
  run: CsvRun,
  delimiter: Delimiter,
  read: RunTextReader,
  /**
   * Note where each cell starts (the batch's source), for encoders that copy unchanged cells
   * from the bytes; validation alone does without (200,000 IRVE rows: 8 million fewer).
   */
  withSource = true,
): RowBatch {
  const { text, bytes } = read(run.bytes);
  let records: string[][];
  // IRVE cells average ~10 bytes: room for one per 8 bytes rarely grows.
  const starts = withSource ? new CellStarts(text.length >> 3) : undefined;
  try {
    records = parseCsvRecords(text, delimiter, starts);
  } catch (error) {
    if (error instanceof TooManyCells) {
      const line = run.firstLine + countNewlines(text.slice(0, error.position));
      throw new TerminalError(
        `the CSV cannot be read at line ${line}: ${error.message} (the cap on columns: PostgreSQL tables take at most 1,600)`,
        `check the delimiter (${JSON.stringify(delimiter)} was used; --delimiter or format.delimiter sets it) and that lines end with a newline`,
      );
    }
    if (!(error instanceof MalformedQuote)) throw error;
    const line = run.firstLine + countNewlines(text.slice(0, error.position));
    throw new TerminalError(
      `the CSV cannot be read at line ${line}: ${error.message}`,
      'check quotes: a cell that starts with " must end with " right before the delimiter or the line end, and each " inside it must be doubled ("")',
    );
  }
  // A run ending with a newline parses to one more, empty, record: it is not data.
  if (text.endsWith('\n')) records.pop();
  if (records.length !== run.records) {
    // Row numbers come from the splitter's count: they must not drift silently.
    throw new Error(
      `CSV reader: lines ${run.firstLine}-${run.firstLine + run.newlines} hold ${records.length} records, not ${run.records} as counted`,
    );
  }
  const batch: RowBatch = new Array<TableRow>(records.length);
  let firstCell = 0;
  for (let index = 0; index < records.length; index++) {
    const cells = withoutCarriageReturn(records[index]!);
    batch[index] = { rowNumber: run.firstRow + index, cells, firstCell };
    firstCell += cells.length;
  }
  if (starts !== undefined) batch.source = { text, bytes, starts: starts.values() };
  return batch;
}

function withoutCarriageReturn(cells: string[]): string[] {
  const last = cells.length - 1;
  if (last >= 0 && cells[last]!.endsWith('\r')) cells[last] = cells[last]!.slice(0, -1);
  return cells;
}
