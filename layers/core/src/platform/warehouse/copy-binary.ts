import { digitsAt } from '../table-schema/cast';
import { copyBytes } from '../text/copy-bytes';
import type { Field } from '../table-schema/schema';
import { loadColumnType } from './column-types';

/**
 * Rows in PostgreSQL's binary COPY format, written straight into a buffer.
 *
 * Binary rather than text: PostgreSQL takes each value as it is stored instead of parsing
 * it (no line splitting, unescaping, date or number parsing, hex decoding of geometries).
 * A 1M-row IRVE COPY costs it a quarter less CPU (docs/benchmarks.md).
 *
 * Each field's value comes in as validation left it: the canonical text that PostgreSQL's
 * own input function would read for the column (see table-schema/cast.ts), or a point's
 * EWKB bytes; the writers below give the bytes that input function would have stored
 * (test/integration/warehouse.test.ts compares them, type by type, with PostgreSQL's reading
 * of the same text). A value that is its cell, unchanged, of a CSV read as UTF-8 bytes is
 * copied from the bytes of the file (see CellSource): most cells are, and copying bytes costs
 * a fraction of going through strings.
 */

/** The stream's start: signature, flags (none), header extension length (0). */
export const COPY_BINARY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** The stream's end: a row of -1 fields. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** Rows loaded carry these after the schema's fields (see lineageColumns). */
export interface Lineage {
  loadId: string;
  sourceKey: string;
}

/**
 * The bytes a batch's cells were read from: a run of CSV records read as UTF-8 bytes (one
 * character per byte, so a cell's characters are its bytes), and where each cell's value
 * starts in them, in reading order (-1 for a quoted cell that held a doubled quote, which is
 * not its bytes).
 */
export interface CellSource {
  view: DataView;
  starts: Int32Array;
}

/**
 * Writes validated rows (values in schema field order, see RowValidator) with their lineage
 * columns _load_id, _source_key and _row_number.
 */
export class CopyBinaryRows {
  /** How each field is written (see Kind). */
  private readonly kinds: Uint8Array;
  private readonly fieldCount: number;
  /** The lineage columns but the row number's value: the same on every row. */
  private readonly lineage: Buffer;
  private readonly lineageView: DataView;
  /** A row's bytes but its values' (field count, lengths, lineage). */
  private readonly fixedBytes: number;

  constructor(
    fields: readonly Field[],
    lineage: Lineage,
    /** The values are UTF-8 bytes held one per character (see DataTable.utf8Bytes); otherwise text. */
    utf8Bytes: boolean,
    /** Where each field's cell sits in a row's cells (see write's `cells`). */
    private readonly positions: readonly number[] = [],
  ) {
    this.kinds = Uint8Array.from(fields, (field) => fieldKind(field, utf8Bytes));
    this.fieldCount = fields.length + 3;
    const sourceKey = Buffer.from(lineage.sourceKey, 'utf8');
    this.lineage = Buffer.concat([
      Buffer.from([0, 0, 0, 16]),
      Buffer.from(lineage.loadId.replaceAll('-', ''), 'hex'),
      lengthBytes(sourceKey.length),
      sourceKey,
      Buffer.from([0, 0, 0, 8]),
    ]);
    this.lineageView = new DataView(this.lineage.buffer, this.lineage.byteOffset, this.lineage.length);
    this.fixedBytes = 2 + 5 * fields.length + this.lineage.length + 8;
  }

  /**
   * Writes one row: its field count, its fields, the lineage columns. With the row's cells and
   * their source, a value that is its cell is copied from the source's bytes.
   */
  write(
    values: readonly (string | null)[],
    rowNumber: number,
    out: CopyWriter,
    cells?: readonly string[],
    source?: CellSource,
    /** The index of the row's first cell in source.starts. */
    firstCell = 0,
  ): void {
    // Room is checked value by value (one pass over the values): a value takes at most
    // 16 + 3 bytes per character (a time's 8 characters take 12, UTF-8 text up to 3 per character).
    let buffer = out.reserve(this.fixedBytes + ROW_ROOM);
    let at = this.putFieldCount(buffer, out.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) {
        if (at + 4 > buffer.length) buffer = grow(out, at, 4 + this.fixedBytes);
        at = putNull(buffer, at);
        continue;
      }
      if (at + 16 + 3 * value.length > buffer.length)
        buffer = grow(out, at, 16 + 3 * value.length + this.fixedBytes);
      const position = this.positions[i]!;
      const start =
        source !== undefined && cells![position] === value ? source.starts[firstCell + position]! : -1;
      at = this.putValue(i, value, buffer, out.view, at, source?.view, start);
    }
    if (at + this.lineage.length + 8 > buffer.length) buffer = grow(out, at, this.lineage.length + 8);
    out.length = this.putLineage(buffer, out.view, at, rowNumber);
  }

  /**
   * The room a row takes at most, besides its values' bytes: its field count, lineage, and
   * 64 bytes per field (a length, a point's EWKB, a number's digit groups, a date).
   * Values of byte kinds take their length again (at most 3 per character, as UTF-8).
   */
  get rowRoom(): number {
    return this.fixedBytes + 64 * (this.fieldCount - 3);
  }

  /** Starts a row at `at`: its field count. */
  putFieldCount(buffer: Buffer, at: number): number {
    buffer[at] = this.fieldCount >>> 8;
    buffer[at + 1] = this.fieldCount & 0xff;
    return at + 2;
  }

  /**
   * Writes the value of field `index` at `at` (room checked by the caller); a Bytes value that
   * is its cell's bytes, found at `start` of `source`, is copied from there.
   */
  putValue(
    index: number,
    value: string,
    buffer: Buffer,
    view: DataView,
    at: number,
    source: DataView | undefined,
    start: number,
  ): number {
    switch (this.kinds[index]) {
      case Kind.Bytes: {
        const length = value.length;
        view.setUint32(at, length);
        at += 4;
        if (start >= 0) copyBytes(source!, start, view, at, length);
        else if (length < 64) {
          // A point, a cell with a doubled quote: short, quicker copied here than through a native call.
          for (let k = 0; k < length; k++) buffer[at + k] = value.charCodeAt(k);
        } else buffer.write(value, at, length, 'latin1');
        return at + length;
      }
      case Kind.Boolean:
        return putBoolean(buffer, at, value === 't');
      case Kind.Text:
        return putText(value, buffer, at);
      case Kind.JsonBytes:
        return putJson(value, buffer, at, 'latin1');
      case Kind.JsonText:
        return putJson(value, buffer, at, 'utf8');
      case Kind.BigInt:
        putUint32(buffer, at, 8);
        putInt64Text(buffer, at + 4, value);
        return at + 12;
      case Kind.Integer:
        putUint32(buffer, at, 4);
        putUint32(buffer, at + 4, Number(value) >>> 0);
        return at + 8;
      case Kind.Numeric:
        return putNumeric(value, buffer, at);
      case Kind.Date:
        return putDays(buffer, at, daysOf(value));
      case Kind.Time:
        putUint32(buffer, at, 8);
        putInt64(buffer, at + 4, timeMicroseconds(value, 0));
        return at + 12;
      case Kind.Timestamp:
        return putTimestamp(value, buffer, at);
      default:
        throw new Error(`COPY binary: no writer for field ${index}`);
    }
  }

  /** Ends a row at `at`: its lineage columns. Returns the row's end. */
  putLineage(buffer: Buffer, view: DataView, at: number, rowNumber: number): number {
    copyBytes(this.lineageView, 0, view, at, this.lineageView.byteLength);
    at += this.lineageView.byteLength;
    putInt64(buffer, at, rowNumber);
    return at + 8;
  }
}

/** A NULL value. */
export function putNull(buffer: Buffer, at: number): number {
  buffer[at] = 0xff;
  buffer[at + 1] = 0xff;
  buffer[at + 2] = 0xff;
  buffer[at + 3] = 0xff;
  return at + 4;
}

export function putBoolean(buffer: Buffer, at: number, value: boolean): number {
  putUint32(buffer, at, 1);
  buffer[at + 4] = value ? 1 : 0;
  return at + 5;
}

/** A date, as days since 2000-01-01 (see daysSince2000). */
export function putDays(buffer: Buffer, at: number, days: number): number {
  putUint32(buffer, at, 4);
  putUint32(buffer, at + 4, days >>> 0);
  return at + 8;
}

/** A 64-bit integer (a safe JavaScript integer). */
export function putBigInt(buffer: Buffer, at: number, value: number): number {
  putUint32(buffer, at, 8);
  putInt64(buffer, at + 4, value);
  return at + 12;
}

/**
 * A WGS 84 point as PostGIS's EWKB, the bytes pointEwkb (table-schema/cast.ts) spells:
 * little-endian, type Point with the SRID flag, SRID 4326, then the two doubles.
 */
export function putPoint(buffer: Buffer, view: DataView, at: number, lon: number, lat: number): number {
  putUint32(buffer, at, 25);
  buffer[at + 4] = 1;
  view.setUint32(at + 5, 0x20000001, true);
  view.setUint32(at + 9, 4326, true);
  view.setFloat64(at + 13, lon, true);
  view.setFloat64(at + 21, lat, true);
  return at + 29;
}

/** Bytes as they are, from `source` at `start`. */
export function putBytes(
  view: DataView,
  at: number,
  source: DataView,
  start: number,
  length: number,
): number {
  view.setUint32(at, length);
  copyBytes(source, start, view, at + 4, length);
  return at + 4 + length;
}

/** Room reserved at the start of a row, past its fixed bytes: most rows take less. */
const ROW_ROOM = 4096;

/** Room for `more` bytes past a row written up to `at`: the buffer (out.view follows), grown with the row so far. */
function grow(out: CopyWriter, at: number, more: number): Buffer<ArrayBuffer> {
  const start = out.length;
  out.length = at;
  const buffer = out.reserve(more);
  out.length = start;
  return buffer;
}

/** How a field's values are written. */
const enum Kind {
  /** Bytes as they are: UTF-8 text read as bytes, a point's EWKB. */
  Bytes,
  Boolean,
  /** Text written as UTF-8. */
  Text,
  /** jsonb (version 1, then the JSON), from bytes or from text. */
  JsonBytes,
  JsonText,
  BigInt,
  Integer,
  Numeric,
  Date,
  Time,
  Timestamp,
}

function fieldKind(field: Field, utf8Bytes: boolean): Kind {
  const type = loadColumnType(field);
  switch (type) {
    case 'text':
      return utf8Bytes ? Kind.Bytes : Kind.Text;
    case 'geometry(Point,4326)':
    case 'geometry(Geometry,4326)':
      // EWKB bytes (see pointEwkb). GeoJSON is loaded as text.
      return Kind.Bytes;
    case 'jsonb':
      return utf8Bytes ? Kind.JsonBytes : Kind.JsonText;
    case 'boolean':
      return Kind.Boolean;
    case 'bigint':
      return Kind.BigInt;
    case 'integer':
      return Kind.Integer;
    case 'numeric':
      return Kind.Numeric;
    case 'date':
      return Kind.Date;
    case 'time':
      return Kind.Time;
    case 'timestamptz':
      return Kind.Timestamp;
  }
}

function putText(value: string, out: Buffer, at: number): number {
  const length = out.write(value, at + 4, 'utf8');
  putUint32(out, at, length);
  return at + 4 + length;
}

/** Version 1 of jsonb's binary input, then the JSON text. */
function putJson(value: string, out: Buffer, at: number, encoding: 'latin1' | 'utf8'): number {
  out[at + 4] = 1;
  const length = out.write(value, at + 5, encoding);
  putUint32(out, at, length + 1);
  return at + 5 + length;
}

/**
 * COPY rows written into one growing buffer and handed over in chunks (take), so a row is
 * written in place, with no string of its own.
 */
export class CopyWriter {
  private buffer: Buffer<ArrayBuffer>;
  /** The buffer's bytes, for copies four at a time. */
  view: DataView;
  /** Bytes written so far (CopyBinaryRows moves it as it writes). */
  length = 0;

  constructor(
    /**
     * Room for a job's rows, or a chunk's, without growing (a copy): 256 kB of CSV become
     * ~300 kB of COPY rows, and a chunk is taken once past 256 kB.
     */
    private readonly initialBytes = 512 * 1024,
    /** A buffer taken earlier and given back, written, if any: the next one, rather than a new one. */
    private readonly spare: () => ArrayBuffer | undefined = () => undefined,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  /** The buffer, with room for `more` bytes past `length`. */
  reserve(more: number): Buffer<ArrayBuffer> {
    if (this.length + more > this.buffer.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + more));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
      this.view = new DataView(larger.buffer);
    }
    return this.buffer;
  }

  /** The bytes written since the last take, over an ArrayBuffer of their own (it can be transferred). */
  take(): Buffer<ArrayBuffer> {
    // Nothing written (validation alone): the buffer is kept, not reallocated for each job.
    if (this.length === 0) return Buffer.allocUnsafeSlow(0);
    const written = this.buffer.subarray(0, this.length);
    const spare = this.spare();
    this.buffer =
      spare !== undefined && spare.byteLength >= this.initialBytes
        ? Buffer.from(spare)
        : Buffer.allocUnsafeSlow(this.initialBytes);
    this.view = new DataView(this.buffer.buffer);
    this.length = 0;
    return written;
  }
}

export function putUint32(out: Buffer, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function putUint16(out: Buffer, at: number, value: number): void {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
}

const TWO_32 = 4294967296;

/** A safe JavaScript integer as a 64-bit two's complement integer. */
function putInt64(out: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  putUint32(out, at, high >>> 0);
  putUint32(out, at + 4, value - high * TWO_32);
}

/** A 64-bit integer spelled in decimal (validated: within int64). */
function putInt64Text(out: Buffer, at: number, text: string): void {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return putInt64(out, at, value);
  putBigInt64(out, at, BigInt(text));
}

function putBigInt64(out: Buffer, at: number, value: bigint): void {
  const bits = BigInt.asUintN(64, value);
  putUint32(out, at, Number(bits >> 32n));
  putUint32(out, at + 4, Number(bits & 0xffffffffn));
}

function lengthBytes(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  putUint32(bytes, 0, length);
  return bytes;
}

const NUMERIC_POSITIVE = 0x0000;
const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_INFINITY = 0xd000;
const NUMERIC_MINUS_INFINITY = 0xf000;

/**
 * A number as numeric's binary form: base-10000 digits, the weight of the first, a sign, and
 * the display scale numeric_in would give the text (digits after the point less the
 * exponent: "1.50" keeps two, "1.5e1" none), so that the value reads back as it would.
 */
function putNumeric(text: string, out: Buffer, at: number): number {
  const special =
    text === 'NaN'
      ? NUMERIC_NAN
      : text === 'Infinity'
        ? NUMERIC_INFINITY
        : text === '-Infinity'
          ? NUMERIC_MINUS_INFINITY
          : -1;
  if (special >= 0) return putNumericHeader(out, at, 0, 0, special, 0);
  const negative = text.charCodeAt(0) === 45;
  const start = negative || text.charCodeAt(0) === 43 ? 1 : 0;
  // One pass: where the point and the exponent are (validated: digits, one point, [eE][+-]digits).
  let point = -1;
  let end = text.length;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) point = i;
    else if (code === 101 || code === 69) {
      end = i;
      break;
    }
  }
  const exponent = end < text.length ? Number(text.slice(end + 1)) : 0;
  const integerDigits = (point < 0 ? end : point) - start;
  const scale = Math.max(0, (point < 0 ? 0 : end - point - 1) - exponent);
  // The digits without the point, from `first` to `last` (leading and trailing zeros left out).
  const digitAt = (n: number) => digitOf(text, start, point, n);
  const count = end - start - (point < 0 ? 0 : 1);
  let first = 0;
  while (first < count && digitAt(first) === 0) first++;
  let last = count;
  while (last > first && digitAt(last - 1) === 0) last--;
  if (first === last) return putNumericHeader(out, at, 0, 0, NUMERIC_POSITIVE, scale);
  // Base-10000 groups are aligned on the point, which sits after `pointAt` digits from `first`.
  const pointAt = integerDigits + exponent - first;
  const weight = Math.floor((pointAt - 1) / 4);
  const groups = Math.ceil((4 * (weight + 1) - pointAt + last - first) / 4);
  at = putNumericHeader(out, at, groups, weight, negative ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE, scale);
  // Digit n (from `first`) falls in group floor((n + padding) / 4).
  const padding = 4 * (weight + 1) - pointAt;
  for (let group = 0; group < groups; group++) {
    let value = 0;
    for (let place = 0; place < 4; place++) {
      const n = group * 4 + place - padding;
      value = value * 10 + (n >= 0 && n < last - first ? digitAt(first + n) : 0);
    }
    putUint16(out, at, value);
    at += 2;
  }
  return at;
}

/** The n-th digit of a number's text that starts at `start`, the point (at `point`, or -1) skipped. */
function digitOf(text: string, start: number, point: number, n: number): number {
  return text.charCodeAt(point >= 0 && start + n >= point ? start + n + 1 : start + n) - 48;
}

/** A numeric's length and header (the digits follow); returns where the digits go. */
function putNumericHeader(
  out: Buffer,
  at: number,
  groups: number,
  weight: number,
  sign: number,
  scale: number,
): number {
  putUint32(out, at, 8 + 2 * groups);
  putUint16(out, at + 4, groups);
  putUint16(out, at + 6, weight & 0xffff);
  putUint16(out, at + 8, sign);
  putUint16(out, at + 10, scale);
  return at + 12;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (as PostgreSQL's). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** PostgreSQL counts dates and timestamps from 2000-01-01. */
const POSTGRES_EPOCH_DAYS = daysFromCivil(2000, 1, 1);

/** Days since 2000-01-01 of YYYY-MM-DD (validated, see cast.ts: the year has 4 digits). */
function daysOf(text: string): number {
  return daysSince2000(digitsAt(text, 0, 4), digitsAt(text, 5, 7), digitsAt(text, 8, 10));
}

/** Days from 2000-01-01 to a date (validated), as PostgreSQL stores it. */
export function daysSince2000(year: number, month: number, day: number): number {
  return daysFromCivil(year, month, day) - POSTGRES_EPOCH_DAYS;
}

/**
 * Microseconds of HH:MM:SS[.fff…] at `from`: the fraction rounded half to even (rint), as
 * PostgreSQL rounds the seconds it reads to its microsecond resolution.
 */
function timeMicroseconds(text: string, from: number): number {
  const seconds =
    Number(text.slice(from, from + 2)) * 3600 +
    Number(text.slice(from + 3, from + 5)) * 60 +
    Number(text.slice(from + 6, from + 8));
  let fraction = 0;
  if (text.charCodeAt(from + 8) === 46) {
    let end = from + 9;
    while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    fraction = roundHalfEven(Number(`0${text.slice(from + 8, end)}`) * 1e6);
  }
  return seconds * 1e6 + fraction;
}

function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/**
 * Microseconds since 2000-01-01T00:00:00Z of an ISO datetime (validated by the datetime
 * reader); one without an offset is UTC, as the Table Schema spec reads it.
 */
function putTimestamp(text: string, out: Buffer, at: number): number {
  const timeAt = text.indexOf('T');
  const days = daysOf(text);
  let end = timeAt + 9;
  while (
    end < text.length &&
    text.charCodeAt(end) !== 90 &&
    text.charCodeAt(end) !== 43 &&
    text.charCodeAt(end) !== 45
  )
    end++;
  let offsetMinutes = 0;
  if (end < text.length && text.charCodeAt(end) !== 90) {
    const offset = text.slice(end + 1).replace(':', '');
    offsetMinutes =
      (Number(offset.slice(0, 2)) * 60 + Number(offset.slice(2, 4))) * (text[end] === '-' ? -1 : 1);
  }
  putUint32(out, at, 8);
  putBigInt64(
    out,
    at + 4,
    BigInt(days) * 86_400_000_000n +
      BigInt(timeMicroseconds(text, timeAt + 1)) -
      BigInt(offsetMinutes) * 60_000_000n,
  );
  return at + 12;
}

export interface ValidRow {
  rowNumber: number;
  /** Normalized values in schema field order (see RowValidator). */
  values: (string | null)[];
}

/** COPY rows (see TableLoad.copyRows) of rows already validated, a chunk per batch. */
export async function* copyRowsOf(
  batches: AsyncIterable<ValidRow[]> | Iterable<ValidRow[]>,
  fields: readonly Field[],
  lineage: Lineage,
): AsyncGenerator<Buffer> {
  const rows = new CopyBinaryRows(fields, lineage, false);
  const out = new CopyWriter();
  for await (const batch of batches) {
    for (const row of batch) rows.write(row.values, row.rowNumber, out);
    yield out.take();
  }
}
