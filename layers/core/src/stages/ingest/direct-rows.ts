import { countNewlines, type CsvRun } from '../../platform/formats/record-splitter';
import {
  booleanSpellings,
  CellProblem,
  compileField,
  digitsAt,
  isRealDate,
  isWgs84,
  PAIR,
  readPair,
  utf8BytesReader,
  type CellReader,
} from '../../platform/table-schema/cast';
import type { Field } from '../../platform/table-schema/schema';
import { toUtf8Bytes } from '../../platform/text/utf8-bytes';
import {
  CopyBinaryRows,
  daysSince2000,
  putBigInt,
  putBoolean,
  putBytes,
  putDays,
  putNull,
  putPoint,
  type CopyWriter,
} from '../../platform/warehouse/copy-binary';
import { loadColumnType } from '../../platform/warehouse/column-types';
import type { TableSetup } from './batch-validation';

/**
 * Loads the usual rows of a UTF-8 CSV run straight from its bytes into COPY rows: the cells
 * are found by one pass over the bytes, and the common checks are made where they lie (plain
 * text and emails copied as they are, booleans and enum values found by their spellings'
 * bytes, dates, integers, plain decimals and points read in place). Only cells with another
 * check (a pattern, a format…) become strings, read by the very reader RowValidator uses.
 *
 * Why: parsing every cell into a string, reading it, then writing the values again was
 * three passes and ~40 strings per row; on 1M IRVE rows the validation workers spent most of
 * the load's CPU there (docs/benchmarks.md).
 *
 * It only ever vouches for a row the general path (parseCsvRun, RowValidator, CopyBinaryRows)
 * would load with the same bytes: any row it is not sure of (a problem in a cell, an empty
 * required one, a cell count other than the header's, a doubled quote, a line break inside
 * quotes, a row that may be blank…) is handed whole to the general path, which names its
 * problems or loads it. test/unit/direct-rows.test.ts compares both on the same runs.
 */
export class DirectRows {
  private readonly kinds: Uint8Array;
  private readonly required: boolean[];
  /** Each field's reader of cells as UTF-8 bytes (RowValidator's), and of ASCII cells (the same verdicts there). */
  private readonly readers: CellReader[];
  private readonly asciiReaders: CellReader[];
  /** Per boolean or enum field: the bytes of the spellings it takes (see Spellings). */
  private readonly spellings: (Spellings | undefined)[];
  /** Per integer or number field: its bounds as numbers (NaN: none, so no comparison fails). */
  private readonly minimum: number[];
  private readonly maximum: number[];
  private readonly columnCount: number;
  /** Where each cell of the row being read starts and ends (exclusive), in the run's bytes. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly delimiter: number;
  /** The delimiter in each byte of a 32-bit word. */
  private readonly delimiterWord: number;

  private constructor(
    setup: TableSetup,
    delimiter: string,
    /** Where each field's cell sits in a row. */
    private readonly positions: number[],
    private readonly rows: CopyBinaryRows,
  ) {
    const { schema, columnCount } = setup;
    this.kinds = Uint8Array.from(schema.fields, directKind);
    this.required = schema.fields.map((field) => field.constraints?.required === true);
    const compiled = schema.fields.map(compileField);
    this.readers = compiled.map(utf8BytesReader);
    // An ASCII cell reads the same as text or as bytes: utf8BytesReader would test that
    // with a pattern before calling `read` (a fifth of a pattern field's time).
    this.asciiReaders = compiled.map(({ read }) => read);
    this.spellings = schema.fields.map((field, index) => spellingsOf(field, this.kinds[index]!));
    this.minimum = schema.fields.map((field) => Number(field.constraints?.minimum ?? NaN));
    this.maximum = schema.fields.map((field) => Number(field.constraints?.maximum ?? NaN));
    this.columnCount = columnCount;
    this.starts = new Int32Array(columnCount);
    this.ends = new Int32Array(columnCount);
    this.delimiter = delimiter.charCodeAt(0);
    this.delimiterWord = Math.imul(this.delimiter, ONES);
  }

  /**
   * For a table whose rows are read as UTF-8 bytes and checked row by row (no unique values
   * or primary key to remember, only "" missing, every field in the header), with a one-byte
   * delimiter; otherwise undefined: every row takes the general path. Without lineage (validation
   * alone), rows are only checked (load without a writer).
   */
  static of(setup: TableSetup, delimiter: string, checksUniqueness: boolean): DirectRows | undefined {
    const { schema, columnOfField, utf8Bytes } = setup;
    const lineage = setup.lineage ?? BLANK_LINEAGE;
    const usable =
      utf8Bytes &&
      !checksUniqueness &&
      delimiter.length === 1 &&
      delimiter.charCodeAt(0) < 128 &&
      schema.missingValues.length === 1 &&
      schema.missingValues[0] === '' &&
      schema.fields.every((field) => (columnOfField.get(field.name) ?? -1) >= 0);
    if (!usable) return undefined;
    const positions = schema.fields.map((field) => columnOfField.get(field.name)!);
    const rows = new CopyBinaryRows(schema.fields, lineage, true, positions);
    return new DirectRows(setup, delimiter, positions, rows);
  }

  /**
   * Writes the rows of a run (its bytes, which must be its text's: valid UTF-8) to `out` (or
   * only checks them, without), and hands each row it cannot vouch for to `general` as a run
   * of its own, in file order. Returns how many rows it vouched for.
   */
  load(run: CsvRun, text: string, out: CopyWriter | undefined, general: (row: CsvRun) => void): number {
    const bytes = run.bytes;
    const source = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = bytes.length;
    let written = 0;
    let at = 0;
    let line = run.firstLine;
    for (let record = 0; record < run.records; record++) {
      const rowNumber = run.firstRow + record;
      const rowEnd = this.scan(bytes, source, at, end);
      if (rowEnd >= 0 && this.write(bytes, text, source, rowEnd - at, rowNumber, out)) {
        written++;
        line++;
        at = rowEnd + 1;
        continue;
      }
      // The general path reads the row alone: from its start to its newline (kept, as a run's).
      const newline = recordEnd(bytes, at, end, this.delimiter);
      const row = bytes.subarray(at, Math.min(newline + 1, end));
      const newlines = countNewlines(row);
      general({ bytes: row, firstLine: line, newlines, firstRow: rowNumber, records: 1 });
      line += newlines;
      at = newline + 1;
    }
    return written;
  }

  /**
   * Finds the cells of the record at `at` (into starts and ends); returns where it ends (its
   * newline, or the run's end), or -1 for a record left to the general path: another cell
   * count than the header's, a doubled quote, a line break inside quotes, text after a
   * closing quote. A carriage return before the newline is not part of the last cell.
   */
  private scan(bytes: Uint8Array, words: DataView, at: number, end: number): number {
    const delimiter = this.delimiter;
    const delimiters = this.delimiterWord;
    const starts = this.starts;
    const ends = this.ends;
    const last = this.columnCount - 1;
    for (let column = 0; ; column++) {
      let code = bytes[at];
      if (code === QUOTE) {
        const open = ++at;
        at = skipWords(words, at, end, QUOTES);
        while (at < end && (code = bytes[at]) !== QUOTE) {
          if (code === NEWLINE) return -1;
          at++;
        }
        if (at >= end || bytes[at + 1] === QUOTE) return -1;
        starts[column] = open;
        ends[column] = at;
        code = bytes[++at];
        if (code === CARRIAGE_RETURN && column === last && bytes[at + 1] === NEWLINE) code = bytes[++at];
      } else {
        starts[column] = at;
        at = skipWords(words, at, end, delimiters);
        while (at < end && (code = bytes[at]) !== delimiter && code !== NEWLINE) at++;
        ends[column] = at;
      }
      if (at < end && code === delimiter) {
        if (column === last) return -1;
        at++;
        continue;
      }
      if (at < end && code !== NEWLINE) return -1;
      if (column !== last) return -1;
      // The general path drops one carriage return ending the record's last cell.
      if (ends[column]! > starts[column]! && bytes[ends[column]! - 1] === CARRIAGE_RETURN) ends[column]!--;
      return at;
    }
  }

  /**
   * Writes the row whose cells scan found, if each is valid and the row cannot be blank;
   * otherwise writes nothing and returns false.
   */
  private write(
    bytes: Uint8Array,
    text: string,
    source: DataView,
    length: number,
    rowNumber: number,
    /** Where the row goes; without, it is only checked (validation alone). */
    out: CopyWriter | undefined,
  ): boolean {
    const starts = this.starts;
    const ends = this.ends;
    // A row whose first cell starts with a printable character is not blank (RowValidator's test).
    const lead = ends[0]! > starts[0]! ? bytes[starts[0]!]! : 0;
    if (lead <= 32 || lead >= 127) return false;
    const writes = out !== undefined;
    const buffer = writes ? out.reserve(this.rows.rowRoom + 3 * length) : EMPTY;
    const view = writes ? out.view : EMPTY_VIEW;
    let at = writes ? this.rows.putFieldCount(buffer, out.length) : 0;
    const kinds = this.kinds;
    for (let index = 0; index < kinds.length; index++) {
      const column = this.positions[index]!;
      const start = starts[column]!;
      const cellEnd = ends[column]!;
      if (start === cellEnd) {
        if (this.required[index]) return false;
        if (writes) at = putNull(buffer, at);
        continue;
      }
      switch (kinds[index]) {
        case Direct.Text:
          if (writes) at = putBytes(view, at, source, start, cellEnd - start);
          break;
        case Direct.Boolean: {
          const meaning = this.spellings[index]!.find(bytes, source, start, cellEnd);
          if (meaning < 0) return false;
          if (writes) at = putBoolean(buffer, at, meaning === 1);
          break;
        }
        case Direct.Enum:
          if (this.spellings[index]!.find(bytes, source, start, cellEnd) < 0) return false;
          if (writes) at = putBytes(view, at, source, start, cellEnd - start);
          break;
        case Direct.Date: {
          const days = dateAt(text, start, cellEnd);
          if (Number.isNaN(days)) return false;
          if (writes) at = putDays(buffer, at, days);
          break;
        }
        case Direct.Integer: {
          // The constraint checkers' comparison: Number(value) - Number(bound), exact here.
          const value = integerAt(text, start, cellEnd);
          if (Number.isNaN(value) || value - this.minimum[index]! < 0 || value - this.maximum[index]! > 0)
            return false;
          if (writes) at = putBigInt(buffer, at, value);
          break;
        }
        case Direct.Number: {
          if (!isPlainDecimal(bytes, start, cellEnd)) return false;
          const minimum = this.minimum[index]!;
          const maximum = this.maximum[index]!;
          if (!writes && minimum !== minimum && maximum !== maximum) break;
          const cell = text.slice(start, cellEnd);
          if (minimum === minimum || maximum === maximum) {
            const value = Number(cell);
            if (value - minimum < 0 || value - maximum > 0) return false;
          }
          if (writes) at = this.rows.putValue(index, cell, buffer, view, at, source, -1);
          break;
        }
        case Direct.Email:
          if (!isEmail(bytes, start, cellEnd)) return false;
          if (writes) at = putBytes(view, at, source, start, cellEnd - start);
          break;
        case Direct.Point:
          // Read where the cell lies in the run's text, as the geopoint reader reads it alone.
          if (!readPair(text, true, start, cellEnd) || !isWgs84(PAIR[0]!, PAIR[1]!)) return false;
          if (writes) at = putPoint(buffer, view, at, PAIR[0]!, PAIR[1]!);
          break;
        default: {
          const cell = text.slice(start, cellEnd);
          const read = isAsciiIn(bytes, start, cellEnd) ? this.asciiReaders[index]! : this.readers[index]!;
          const value = read(cell);
          if (value instanceof CellProblem) return false;
          if (!writes) break;
          at =
            value === null
              ? putNull(buffer, at)
              : this.rows.putValue(index, value, buffer, view, at, source, value === cell ? start : -1);
        }
      }
    }
    if (writes) out.length = this.rows.putLineage(buffer, view, at, rowNumber);
    return true;
  }
}

/** The lineage of rows that are only checked (validation alone): none is written. */
const BLANK_LINEAGE = { loadId: '00000000-0000-0000-0000-000000000000', sourceKey: '' };
const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** How DirectRows checks and writes a field's cell. */
const enum Direct {
  /** Read by the field's reader, from the cell's text. */
  Read,
  /** Any text: its bytes as they are. */
  Text,
  Boolean,
  /** Text among allowed values: its bytes as they are. */
  Enum,
  /** YYYY-MM-DD. */
  Date,
  /** [+-]digits, up to 15 (exact as a double), within its bounds. */
  Integer,
  /** An ASCII email address, its bytes as they are. */
  Email,
  /** "[lon, lat]" with plain decimals. */
  Point,
  /** [+-]digits[.digits] (no exponent), within its bounds. */
  Number,
}

/** Constraints checked by the row (required) or by no one here (unique: DirectRows is not used). */
const ROW_CONSTRAINTS = new Set(['required', 'unique']);

function directKind(field: Field): Direct {
  const constraints = Object.entries(field.constraints ?? {}).filter(([, value]) => value !== undefined);
  const cellChecks = constraints.filter(([name]) => !ROW_CONSTRAINTS.has(name)).map(([name]) => name);
  const column = loadColumnType(field);
  const text = field.type === 'string' && column === 'text';
  if (text && field.format === 'default' && cellChecks.length === 1 && cellChecks[0] === 'enum')
    return Direct.Enum;
  const bounds = cellChecks.every((name) => name === 'minimum' || name === 'maximum');
  if (field.type === 'integer' && field.bareNumber !== false && column === 'bigint' && bounds)
    return Direct.Integer;
  const plainNumber = (field.decimalChar ?? '.') === '.' && !field.groupChar && field.bareNumber !== false;
  if (field.type === 'number' && plainNumber && column === 'numeric' && bounds) return Direct.Number;
  if (cellChecks.length > 0) return Direct.Read;
  if (text && field.format === 'default') return Direct.Text;
  if (text && field.format === 'email') return Direct.Email;
  if (field.type === 'boolean' && column === 'boolean') return Direct.Boolean;
  if (field.type === 'date' && ['default', 'any', '%Y-%m-%d'].includes(field.format) && column === 'date')
    return Direct.Date;
  if (field.type === 'geopoint' && field.format === 'array' && column === 'geometry(Point,4326)')
    return Direct.Point;
  return Direct.Read;
}

/**
 * The spellings a field takes, as UTF-8 bytes, each with a meaning (1 true and 0 false for a
 * boolean, 0 for an allowed value), searched among those of the cell's length.
 */
class Spellings {
  /** Per length: each spelling's first four bytes as an int32 (see headOf), its bytes, its meaning. */
  private readonly byLength: (
    { heads: Int32Array; bytes: Uint8Array[]; meanings: Int32Array } | undefined
  )[] = [];

  /** Spellings in order: the first meaning of a spelling given twice stands (as truthOf's). */
  constructor(spellings: readonly (readonly [string, number])[]) {
    const seen = new Set<string>();
    const lists: { bytes: Uint8Array[]; meanings: number[] }[] = [];
    for (const [spelling, meaning] of spellings) {
      if (seen.has(spelling)) continue;
      seen.add(spelling);
      const bytes = new Uint8Array(Buffer.from(toUtf8Bytes(spelling), 'latin1'));
      const same = (lists[bytes.length] ??= { bytes: [], meanings: [] });
      same.bytes.push(bytes);
      same.meanings.push(meaning);
    }
    lists.forEach((same, length) => {
      const heads = Int32Array.from(same.bytes, (bytes) => headOf(bytes, 0, length));
      this.byLength[length] = { heads, bytes: same.bytes, meanings: Int32Array.from(same.meanings) };
    });
  }

  /**
   * The meaning of the spelling in bytes[start, end) (also read as `words`), or -1: its first
   * four bytes, read as one word, tell it from most spellings, and are the whole of the short ones.
   */
  find(bytes: Uint8Array, words: DataView, start: number, end: number): number {
    const length = end - start;
    const same = this.byLength[length];
    if (same === undefined) return -1;
    const head = length >= 4 ? words.getInt32(start, true) : headOf(bytes, start, length);
    const heads = same.heads;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i] !== head) continue;
      if (length <= 4) return same.meanings[i]!;
      const spelling = same.bytes[i]!;
      let k = 4;
      while (k < length && bytes[start + k] === spelling[k]) k++;
      if (k === length) return same.meanings[i]!;
    }
    return -1;
  }
}

/** The first (up to) four bytes at `start` as a little-endian int32, as DataView.getInt32 reads four. */
function headOf(bytes: Uint8Array, start: number, length: number): number {
  let head = 0;
  for (let k = 0; k < length && k < 4; k++) head |= bytes[start + k]! << (8 * k);
  return head;
}

function spellingsOf(field: Field, kind: Direct): Spellings | undefined {
  if (kind === Direct.Enum)
    return new Spellings((field.constraints?.enum ?? []).map((value) => [String(value), 0]));
  if (kind !== Direct.Boolean) return undefined;
  const { trueValues, falseValues } = booleanSpellings(field);
  return new Spellings([
    ...trueValues.map((spelling) => [spelling, 1] as const),
    ...falseValues.map((spelling) => [spelling, 0] as const),
  ]);
}

/** Days since 2000-01-01 of a YYYY-MM-DD cell of the run's text, or NaN (as the date reader refuses it). */
function dateAt(text: string, start: number, end: number): number {
  if (end - start !== 10 || text.charCodeAt(start + 4) !== DASH || text.charCodeAt(start + 7) !== DASH)
    return NaN;
  const year = digitsAt(text, start, start + 4);
  const month = digitsAt(text, start + 5, start + 7);
  const day = digitsAt(text, start + 8, start + 10);
  return isRealDate(year, month, day) ? daysSince2000(year, month, day) : NaN;
}

/**
 * Skips four bytes at a time from `at` up to the first byte that is `wanted`'s (its byte in
 * each of a word's four) or a newline, or to the last word of `end`; the caller reads on byte
 * by byte. The lowest byte flagged by the classic "has a zero byte" test of the word xor
 * each is exactly the first such byte (the test's false positives only follow a true one).
 */
function skipWords(words: DataView, at: number, end: number, wanted: number): number {
  while (at + 4 <= end) {
    const word = words.getUint32(at, true);
    const w = word ^ wanted;
    const n = word ^ NEWLINES;
    const found = (((w - ONES) & ~w) | ((n - ONES) & ~n)) & HIGH_BITS;
    if (found !== 0) return at + ((31 - Math.clz32(found & -found)) >>> 3);
    at += 4;
  }
  return at;
}

/** [+-]digits (at most 15: exact as a double) as a number, or NaN (as /^[+-]?\d+$/ refuses it, or longer). */
function integerAt(text: string, start: number, end: number): number {
  const sign = text.charCodeAt(start);
  const from = sign === PLUS || sign === MINUS ? start + 1 : start;
  if (end - from < 1 || end - from > 15) return NaN;
  const value = digitsAt(text, from, end);
  return sign === MINUS ? -value : value;
}

function isAsciiIn(bytes: Uint8Array, start: number, end: number): boolean {
  let bits = 0;
  for (let i = start; i < end; i++) bits |= bytes[i]!;
  return bits < 128;
}

/** Whether a cell is [+-]digits[.digits] (no exponent), of at most 1,000 bytes: the number reader's usual spelling. */
function isPlainDecimal(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start > 1000) return false;
  let at = start;
  if (bytes[at] === PLUS || bytes[at] === MINUS) at++;
  const digitsFrom = at;
  while (at < end && isDigit(bytes[at]!)) at++;
  if (at === digitsFrom) return false;
  if (at < end && bytes[at] === DOT) at++;
  while (at < end && isDigit(bytes[at]!)) at++;
  return at === end;
}

/**
 * Whether an ASCII cell matches the email reader's /^[^@\s]+@[^@\s]+\.[^@\s]+$/: one "@"
 * after at least one byte, no whitespace, and after the "@" a "." with a byte on each side.
 * A cell with other bytes is left to the reader (its \s includes Unicode spaces).
 */
function isEmail(bytes: Uint8Array, start: number, end: number): boolean {
  let at = -1;
  let dot = -1;
  for (let i = start; i < end; i++) {
    const code = bytes[i]!;
    if (code >= 128 || code === SPACE || (code >= 9 && code <= 13)) return false;
    if (code === AT) {
      if (at >= 0) return false;
      at = i;
    } else if (code === DOT && at >= 0 && i >= at + 2 && i <= end - 2) dot = i;
  }
  return at > start && dot > 0;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Where the record starting at `at` ends: its newline, or `end`. Quotes are read as
 * RecordSplitter reads them (which counted the run's records): a quote opens a quoted cell at
 * the start of a cell only, a doubled quote inside one is a quote.
 */
function recordEnd(bytes: Uint8Array, at: number, end: number, delimiter: number): number {
  let cellStart = true;
  while (at < end) {
    const code = bytes[at]!;
    if (cellStart && code === QUOTE) {
      at++;
      for (;;) {
        while (at < end && bytes[at] !== QUOTE) at++;
        if (at >= end) return end;
        if (bytes[at + 1] !== QUOTE) break;
        at += 2;
      }
      at++;
      cellStart = false;
      continue;
    }
    if (code === NEWLINE) return at;
    cellStart = code === delimiter;
    at++;
  }
  return end;
}

const ONES = 0x01010101;
const HIGH_BITS = 0x80808080 | 0;
const NEWLINES = 0x0a0a0a0a;
const QUOTES = 0x22222222;
const QUOTE = 34;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const DASH = 45;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const AT = 64;
const SPACE = 32;
