import type { Field } from '../table-schema/schema';
import { toUtf8Bytes } from '../utf8-bytes';
import { loadColumnType } from './column-types';

/**
 * Rows in PostgreSQL's binary COPY format, written as byte strings: one JavaScript character
 * per byte (what Buffer calls 'latin1', as in utf8-bytes.ts), so that a row is built by
 * concatenation and written to a buffer in one call.
 *
 * Binary rather than text: PostgreSQL takes each value as it is stored instead of parsing
 * it (no line splitting, unescaping, date or number parsing, hex decoding of geometries).
 * A 1M-row IRVE COPY costs it a quarter less CPU (docs/benchmarks.md).
 *
 * Each field's value comes in as validation left it: the canonical text that PostgreSQL's
 * own input function would read for the column (see table-schema/cast.ts); the encoders
 * below give the bytes that input function would have stored (test/integration/copy-binary.test.ts
 * compares them, type by type, with PostgreSQL's reading of the same text).
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

/** A value of a field as COPY binary: its byte length, then its bytes; -1 for NULL. */
type FieldEncoder = (value: string) => string;

const NULL_FIELD = '\xff\xff\xff\xff';

/**
 * Encodes validated rows (values in schema field order, see RowValidator) with their lineage
 * columns _load_id, _source_key and _row_number.
 */
export class CopyBinaryRows {
  private readonly encoders: FieldEncoder[];
  /** Per field: BYTES and BOOLEAN are encoded in the loop (most cells are), OTHER by its encoder. */
  private readonly kinds: Uint8Array;
  private readonly fieldCount: string;
  /** The lineage columns but the row number, and the row number's length: the same on every row. */
  private readonly lineage: string;

  constructor(
    fields: readonly Field[],
    lineage: Lineage,
    /** The values are UTF-8 bytes held one per character (see DataTable.utf8Bytes); otherwise text. */
    utf8Bytes: boolean,
  ) {
    this.encoders = fields.map((field) => fieldEncoder(field, utf8Bytes));
    this.kinds = Uint8Array.from(fields, (field) => {
      const type = loadColumnType(field);
      return (type === 'text' && utf8Bytes) || type.startsWith('geometry')
        ? BYTES
        : type === 'boolean'
          ? BOOLEAN
          : OTHER;
    });
    this.fieldCount = uint16(fields.length + 3);
    this.lineage = uuidField(lineage.loadId) + textField(toUtf8Bytes(lineage.sourceKey)) + '\0\0\0\x08';
  }

  /**
   * Writes one row: its field count, its fields, the lineage columns. The row is built as one
   * string and written in one call: cheaper than writing its ~100 pieces one by one.
   */
  write(values: readonly (string | null)[], rowNumber: number, out: CopyWriter): void {
    let row = this.fieldCount;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) row += NULL_FIELD;
      else {
        const kind = this.kinds[i];
        if (kind === BYTES)
          row += (value.length < 256 ? SHORT_LENGTHS[value.length]! : uint32(value.length)) + value;
        else if (kind === BOOLEAN) row += value === 't' ? TRUE_FIELD : FALSE_FIELD;
        else row += this.encoders[i]!(value);
      }
    }
    out.write(row + this.lineage + int64(rowNumber));
  }
}

const BYTES = 0;
const BOOLEAN = 1;
const OTHER = 2;

/**
 * COPY rows written to bytes row by row, handed over in chunks (take): cheaper than writing
 * one long concatenation at the end (walking a string built of thousands of pieces costs
 * more than the copy itself).
 */
export class CopyWriter {
  private buffer: Buffer<ArrayBuffer>;
  private length = 0;

  constructor(private readonly initialBytes = 256 * 1024) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  get bytes(): number {
    return this.length;
  }

  /** Appends a byte string (one character per byte). */
  write(bytes: string): void {
    if (this.length + bytes.length > this.buffer.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + bytes.length));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.length += this.buffer.write(bytes, this.length, 'latin1');
  }

  /** The bytes written since the last take, over an ArrayBuffer of their own (it can be transferred). */
  take(): Buffer<ArrayBuffer> {
    const written = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafeSlow(this.initialBytes);
    this.length = 0;
    return written;
  }
}

function fieldEncoder(field: Field, utf8Bytes: boolean): FieldEncoder {
  const type = loadColumnType(field);
  switch (type) {
    case 'text':
      return utf8Bytes ? textField : (value) => textField(toUtf8Bytes(value));
    case 'jsonb':
      // Version 1 of jsonb's binary input: the JSON text.
      return utf8Bytes
        ? (value) => lengthOf(value.length + 1) + '\x01' + value
        : (value) => {
            const bytes = toUtf8Bytes(value);
            return lengthOf(bytes.length + 1) + '\x01' + bytes;
          };
    case 'boolean':
      return (value) => (value === 't' ? TRUE_FIELD : FALSE_FIELD);
    case 'bigint':
      return (value) => '\0\0\0\x08' + int64Text(value);
    case 'integer':
      return (value) => '\0\0\0\x04' + uint32(Number(value) >>> 0);
    case 'numeric':
      return numericField;
    case 'date':
      return dateField;
    case 'time':
      return (value) => '\0\0\0\x08' + int64(timeMicroseconds(value, 0));
    case 'timestamptz':
      return timestampField;
    case 'geometry(Point,4326)':
    case 'geometry(Geometry,4326)':
      // EWKB bytes (see pointEwkb): what PostGIS's binary input reads. (GeoJSON is loaded as text.)
      return textField;
  }
}

const TRUE_FIELD = '\0\0\0\x01\x01';
const FALSE_FIELD = '\0\0\0\x01\0';

/** The 4-byte lengths of short values, spelled once (most text cells are short). */
const SHORT_LENGTHS = Array.from({ length: 256 }, (_, length) => '\0\0\0' + String.fromCharCode(length));

function lengthOf(length: number): string {
  return length < 256 ? SHORT_LENGTHS[length]! : uint32(length);
}

function textField(bytes: string): string {
  return lengthOf(bytes.length) + bytes;
}

function uint16(value: number): string {
  return String.fromCharCode((value >>> 8) & 0xff, value & 0xff);
}

function uint32(value: number): string {
  return String.fromCharCode(
    (value >>> 24) & 0xff,
    (value >>> 16) & 0xff,
    (value >>> 8) & 0xff,
    value & 0xff,
  );
}

const TWO_32 = 4294967296;

/** A 64-bit two's complement integer of a safe JavaScript integer. */
function int64(value: number): string {
  const high = Math.floor(value / TWO_32);
  return uint32(high >>> 0) + uint32(value - high * TWO_32);
}

/** A 64-bit integer spelled in decimal (validated: within int64). */
function int64Text(text: string): string {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return int64(value);
  const bits = BigInt.asUintN(64, BigInt(text));
  return uint32(Number(bits >> 32n)) + uint32(Number(bits & 0xffffffffn));
}

const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_DIGIT['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_DIGIT['0123456789ABCDEF'.charCodeAt(i)] = i;
}

function hexField(hex: string): string {
  let bytes = lengthOf(hex.length >>> 1);
  for (let i = 0; i < hex.length; i += 2)
    bytes += String.fromCharCode((HEX_DIGIT[hex.charCodeAt(i)]! << 4) | HEX_DIGIT[hex.charCodeAt(i + 1)]!);
  return bytes;
}

const NUMERIC_POSITIVE = 0x0000;
const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_INFINITY = 0xd000;
const NUMERIC_MINUS_INFINITY = 0xf000;
const NUMERIC_SPECIAL = '\0\0\0\0';

/**
 * A number as numeric's binary form: base-10000 digits, the weight of the first, a sign, and
 * the display scale numeric_in would give the text (digits after the point less the
 * exponent: "1.50" keeps two, "1.5e1" none), so that the value reads back as it would.
 */
function numericField(text: string): string {
  if (text === 'NaN') return '\0\0\0\x08' + NUMERIC_SPECIAL + uint16(NUMERIC_NAN) + '\0\0';
  if (text === 'Infinity') return '\0\0\0\x08' + NUMERIC_SPECIAL + uint16(NUMERIC_INFINITY) + '\0\0';
  if (text === '-Infinity') return '\0\0\0\x08' + NUMERIC_SPECIAL + uint16(NUMERIC_MINUS_INFINITY) + '\0\0';
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
  const digitAt = (n: number) =>
    text.charCodeAt(point >= 0 && start + n >= point ? start + n + 1 : start + n) - 48;
  const count = end - start - (point < 0 ? 0 : 1);
  let first = 0;
  while (first < count && digitAt(first) === 0) first++;
  let last = count;
  while (last > first && digitAt(last - 1) === 0) last--;
  if (first === last) return '\0\0\0\x08\0\0\0\0' + uint16(NUMERIC_POSITIVE) + uint16(scale);
  // Base-10000 groups are aligned on the point, which sits after `pointAt` digits from `first`.
  const pointAt = integerDigits + exponent - first;
  const weight = Math.floor((pointAt - 1) / 4);
  const groups = Math.ceil((4 * (weight + 1) - pointAt + last - first) / 4);
  let field =
    lengthOf(8 + 2 * groups) +
    uint16(groups) +
    uint16(weight & 0xffff) +
    uint16(negative ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE) +
    uint16(scale);
  // Digit n (from `first`) falls in group floor((n + padding) / 4).
  const padding = 4 * (weight + 1) - pointAt;
  for (let group = 0; group < groups; group++) {
    let value = 0;
    for (let place = 0; place < 4; place++) {
      const n = group * 4 + place - padding;
      value = value * 10 + (n >= 0 && n < last - first ? digitAt(first + n) : 0);
    }
    field += uint16(value);
  }
  return field;
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
  return daysFromCivil(digits(text, 0, 4), digits(text, 5, 7), digits(text, 8, 10)) - POSTGRES_EPOCH_DAYS;
}

function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

function dateField(text: string): string {
  return '\0\0\0\x04' + uint32(daysOf(text) >>> 0);
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
function timestampField(text: string): string {
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
  const micros =
    BigInt(days) * 86_400_000_000n +
    BigInt(timeMicroseconds(text, timeAt + 1)) -
    BigInt(offsetMinutes) * 60_000_000n;
  const bits = BigInt.asUintN(64, micros);
  return '\0\0\0\x08' + uint32(Number(bits >> 32n)) + uint32(Number(bits & 0xffffffffn));
}

/** A uuid's 16 bytes, from its text. */
function uuidField(text: string): string {
  return hexField(text.replace(/-/g, ''));
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
