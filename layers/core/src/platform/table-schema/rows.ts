import { fromUtf8Bytes, toUtf8Bytes } from '../text/utf8-bytes';
import {
  CellProblem,
  compileField,
  truncate,
  utf8BytesReader,
  type CellReader,
  type CompiledField,
} from './cast';
import { asList } from './lists';
import type { TableSchema } from './schema';

/** A located problem in the data, with the Frictionless error type. */
export interface RowError {
  type:
    | 'type-error'
    | 'constraint-error'
    | 'missing-cell'
    | 'extra-cell'
    | 'blank-row'
    | 'unique-error'
    | 'primary-key';
  /** 1-based row number in the file, the header being row 1. */
  rowNumber: number;
  fieldName?: string;
  cell?: string;
  message: string;
}

export type RowResult = { ok: true; values: (string | null)[] } | { ok: false; errors: RowError[] };

/**
 * What a row whose cells are valid claims as its own: its values of the unique fields (null
 * when empty) and its primary key (null when a part is empty), as keys (see RowValidator.claim).
 */
export interface RowClaim {
  rowNumber: number;
  unique: (string | null)[];
  primaryKey?: string | null;
}

/** A character that makes a cell non-blank in any reading: its bytes and its text alike. */
const PRINTABLE_ASCII = /[!-~]/;

/**
 * Validates and normalizes data rows against a schema, given where each field sits in the
 * file (from checkHeader). Values come out in schema field order.
 */
export class RowValidator {
  private readonly fields: CompiledField[];
  /** Each field's reader: `read`, or its UTF-8 bytes version (see DataTable.utf8Bytes). */
  private readonly readers: CellReader[];
  /** What a cell holds as text: itself, or its decoded bytes. */
  private readonly text: (cell: string) => string;
  private readonly positions: number[];
  private readonly missingValues: Set<string>;
  /** The usual case (missingValues [""]): a length check, not a hash lookup per cell. */
  private readonly onlyEmptyIsMissing: boolean;
  /** Values seen so far of each unique field, and of the primary key (memory grows with distinct keys). */
  private readonly seenUnique: Map<number, Map<string, number>>;
  /** The unique fields' indexes, in seenUnique's order (claims list their values so). */
  private readonly uniqueIndexes: number[];
  private readonly keyIndexes: number[];
  private readonly seenKeys = new Map<string, number>();
  /** The usual row read by code made for this schema (see compileRowReader). */
  private readonly readRow: RowReader;

  constructor(
    schema: TableSchema,
    columnOfField: Map<string, number>,
    private readonly columnCount: number,
    /** The cells are UTF-8 bytes held one per character (see DataTable.utf8Bytes): values come out so too. */
    utf8Bytes = false,
    /**
     * Check each row alone and leave unique values and primary keys to the caller, through
     * claimOf and claim: for validators that see only part of a file (validation workers).
     */
    private readonly uniquenessElsewhere = false,
  ) {
    this.fields = schema.fields.map(compileField);
    this.readers = this.fields.map((compiled) => (utf8Bytes ? utf8BytesReader(compiled) : compiled.read));
    this.text = utf8Bytes ? fromUtf8Bytes : (cell) => cell;
    this.positions = schema.fields.map((field) => columnOfField.get(field.name) ?? -1);
    this.missingValues = new Set(utf8Bytes ? schema.missingValues.map(toUtf8Bytes) : schema.missingValues);
    this.onlyEmptyIsMissing = this.missingValues.size === 1 && this.missingValues.has('');
    this.seenUnique = new Map(
      schema.fields.flatMap((field, index) =>
        field.constraints?.unique ? [[index, new Map<string, number>()] as const] : [],
      ),
    );
    this.uniqueIndexes = [...this.seenUnique.keys()];
    const names = schema.fields.map((field) => field.name);
    this.keyIndexes = asList(schema.primaryKey).map((name) => names.indexOf(name));
    this.readRow = compileRowReader(
      this.readers,
      this.positions,
      this.fields.map(({ field }) => field.constraints?.required === true),
      this.onlyEmptyIsMissing ? undefined : this.missingValues,
    );
  }

  validate(cells: readonly string[], rowNumber: number): RowResult {
    // Most rows start with a printable character: not blank, without a look at every cell.
    const lead = cells.length > 0 ? cells[0]!.charCodeAt(0) : NaN;
    if (
      !(lead > 32 && lead < 127) &&
      cells.every((cell) => cell === '' || (!PRINTABLE_ASCII.test(cell) && this.text(cell).trim() === ''))
    ) {
      return { ok: false, errors: [{ type: 'blank-row', rowNumber, message: `row ${rowNumber} is blank` }] };
    }
    if (cells.length <= this.columnCount) {
      const values: (string | null)[] = new Array(this.fields.length);
      if (this.readRow(cells, values)) {
        if (!this.checksUniqueness || this.uniquenessElsewhere) return { ok: true, values };
        const repeated: RowError[] = [];
        this.checkUniqueness(values, cells, rowNumber, repeated);
        return repeated.length > 0 ? { ok: false, errors: repeated } : { ok: true, values };
      }
    }
    // A row with a problem is read again, to name each one. Most rows are valid: the list
    // of errors is made for the first one.
    let errors: RowError[] | undefined;
    if (cells.length > this.columnCount) {
      (errors ??= []).push({
        type: 'extra-cell',
        rowNumber,
        cell: truncate(this.text(cells[this.columnCount] ?? '')),
        message: `row ${rowNumber} has ${cells.length} cells, the header has ${this.columnCount}`,
      });
    }
    const values: (string | null)[] = new Array(this.fields.length);
    for (let index = 0; index < this.fields.length; index++) {
      const compiled = this.fields[index]!;
      const position = this.positions[index]!;
      const text = position >= 0 ? cells[position] : undefined;
      if (text === undefined) {
        (errors ??= []).push({
          type: 'missing-cell',
          rowNumber,
          fieldName: compiled.field.name,
          message: `row ${rowNumber} has no cell for "${compiled.field.name}" (it has ${cells.length} cells)`,
        });
        continue;
      }
      if (this.onlyEmptyIsMissing ? text === '' : this.missingValues.has(text)) {
        if (compiled.field.constraints?.required) {
          (errors ??= []).push({
            type: 'constraint-error',
            rowNumber,
            fieldName: compiled.field.name,
            cell: this.text(text),
            message: `"${compiled.field.name}" is required but row ${rowNumber} leaves it empty`,
          });
        }
        values[index] = null;
        continue;
      }
      const value = this.readers[index]!(text);
      if (value instanceof CellProblem) {
        (errors ??= []).push({
          type: value.type,
          rowNumber,
          fieldName: compiled.field.name,
          cell: truncate(this.text(text)),
          message: value.message,
        });
      } else values[index] = value;
    }
    if (errors === undefined && this.checksUniqueness && !this.uniquenessElsewhere) {
      const repeated: RowError[] = [];
      this.checkUniqueness(values, cells, rowNumber, repeated);
      if (repeated.length > 0) errors = repeated;
    }
    return errors !== undefined ? { ok: false, errors } : { ok: true, values };
  }

  /** Whether the schema declares unique fields or a primary key. */
  get checksUniqueness(): boolean {
    return this.seenUnique.size > 0 || this.keyIndexes.length > 0;
  }

  /** The claim of a row whose cells are valid (values from validate). */
  claimOf(values: (string | null)[], rowNumber: number): RowClaim {
    const unique = this.uniqueIndexes.map((index) => {
      const value = values[index];
      return value === null || value === undefined ? null : JSON.stringify(value);
    });
    if (this.keyIndexes.length === 0) return { rowNumber, unique };
    const parts = this.keyIndexes.map((index) => values[index]);
    const empty = parts.some((part) => part === null || part === undefined);
    return { rowNumber, unique, primaryKey: empty ? null : JSON.stringify(parts) };
  }

  /**
   * Takes the claims of consecutive rows (from another validator's claimOf) if none of them
   * conflicts: no value seen before or twice among them, no empty primary key. Then they are
   * remembered as validate would have, and true is returned; otherwise nothing changes, and
   * the rows must go through validate to get their errors.
   */
  claim(claims: readonly RowClaim[]): boolean {
    const uniqueSeen = [...this.seenUnique.values()];
    const among = uniqueSeen.map(() => new Set<string>());
    const keysAmong = new Set<string>();
    for (const { unique, primaryKey } of claims) {
      for (let at = 0; at < unique.length; at++) {
        const key = unique[at];
        if (key === null || key === undefined) continue;
        if (uniqueSeen[at]!.has(key) || among[at]!.has(key)) return false;
        among[at]!.add(key);
      }
      if (this.keyIndexes.length === 0) continue;
      if (primaryKey === null || primaryKey === undefined) return false;
      if (this.seenKeys.has(primaryKey) || keysAmong.has(primaryKey)) return false;
      keysAmong.add(primaryKey);
    }
    for (const { rowNumber, unique, primaryKey } of claims) {
      unique.forEach((key, at) => key !== null && uniqueSeen[at]!.set(key, rowNumber));
      if (primaryKey) this.seenKeys.set(primaryKey, rowNumber);
    }
    return true;
  }

  /** Repeats are named by their cells, as the file has them (a point's value is bytes). */
  private checkUniqueness(
    values: (string | null)[],
    cells: readonly string[],
    rowNumber: number,
    errors: RowError[],
  ): void {
    const cellOf = (index: number) => truncate(this.text(cells[this.positions[index]!] ?? ''));
    for (const [index, seen] of this.seenUnique) {
      const value = values[index];
      if (value === null || value === undefined) continue;
      // Keyed by a copy: the value may be a slice of the parser's whole run of records,
      // which a stored slice would keep alive (1M unique IRVE ids held 1.1 GB that way).
      const key = JSON.stringify(value);
      const first = seen.get(key);
      const name = this.fields[index]!.field.name;
      if (first !== undefined) {
        errors.push({
          type: 'unique-error',
          rowNumber,
          fieldName: name,
          cell: cellOf(index),
          message: `"${cellOf(index)}" in "${name}" is not unique: row ${first} has it too`,
        });
      } else seen.set(key, rowNumber);
    }
    if (this.keyIndexes.length === 0) return;
    const parts = this.keyIndexes.map((index) => values[index]);
    const shown = () => this.keyIndexes.map(cellOf).join(', ');
    const names = this.keyIndexes.map((index) => this.fields[index]!.field.name).join(', ');
    if (parts.some((part) => part === null || part === undefined)) {
      errors.push({
        type: 'primary-key',
        rowNumber,
        message: `row ${rowNumber} has an empty primary key (${names})`,
      });
      return;
    }
    const key = JSON.stringify(parts);
    const first = this.seenKeys.get(key);
    if (first !== undefined) {
      errors.push({
        type: 'primary-key',
        rowNumber,
        cell: truncate(shown()),
        message: `row ${rowNumber} repeats the primary key (${names}) = (${shown()}) of row ${first}`,
      });
    } else this.seenKeys.set(key, rowNumber);
  }
}

/**
 * Reads a row's cells into `values` (schema field order) and says whether it could: false
 * on any problem (a missing cell, an empty required one, a value a reader refuses), which
 * RowValidator.validate then names. Its cells are already known not blank and not too many.
 */
type RowReader = (cells: readonly string[], values: (string | null)[]) => boolean;

/**
 * The RowReader of a schema, as code written for it: one call site per field, each of which
 * only ever calls that field's reader, so V8 calls it directly, inlines the small ones, and
 * the loop over fields, their positions and their flags are gone. A generic loop calls 40
 * readers from one site (IRVE): the megamorphic call was a fifth of validation's own time.
 * The code holds only numbers (positions, field indexes): readers and missing values are
 * passed in, nothing of the schema is ever spelled into it.
 */
function compileRowReader(
  readers: readonly CellReader[],
  positions: readonly number[],
  required: readonly boolean[],
  /** The missing values, unless only "" is (a length check then). */
  missingValues: ReadonlySet<string> | undefined,
): RowReader {
  const lines: string[] = [];
  for (let index = 0; index < readers.length; index++) {
    const position = positions[index]!;
    if (!Number.isInteger(position) || position < 0) return () => false; // no column: a missing cell
    const missing = missingValues === undefined ? "text === ''" : 'missing.has(text)';
    lines.push(
      `text = cells[${position}];`,
      `if (text === undefined) return false;`,
      `if (${missing}) { ${required[index] ? 'return false;' : `values[${index}] = null;`} }`,
      `else { value = read${index}(text); if (value instanceof CellProblem) return false; values[${index}] = value; }`,
    );
  }
  const body = [
    readers.map((_, index) => `const read${index} = readers[${index}];`).join('\n'),
    'return function readRow(cells, values) {',
    'let text, value;',
    ...lines,
    'return true;',
    '};',
  ].join('\n');
  const make = new Function('readers', 'missing', 'CellProblem', body) as (
    readers: readonly CellReader[],
    missing: ReadonlySet<string> | undefined,
    problem: typeof CellProblem,
  ) => RowReader;
  return make(readers, missingValues, CellProblem);
}
