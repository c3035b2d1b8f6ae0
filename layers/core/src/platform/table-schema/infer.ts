import type { Field } from './schema';

interface ColumnStats {
  name: string;
  missing: number;
  values: Map<string, number>;
  /** Each candidate type stays possible while every non-empty value fits it. */
  fits: Record<Candidate, boolean>;
  leadingZero: boolean;
}

type Candidate =
  | 'integer'
  | 'number'
  | 'boolean'
  | 'date'
  | 'date-fr'
  | 'datetime'
  | 'geopoint-array'
  | 'geopoint'
  | 'email'
  | 'uri';

const tests: Record<Candidate, RegExp> = {
  integer: /^[+-]?\d+$/,
  number: /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/,
  boolean: /^(true|false|TRUE|FALSE|True|False)$/,
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  'date-fr': /^(0[1-9]|[12]\d|3[01])\/(0[1-9]|1[0-2])\/\d{4}$/,
  datetime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/,
  'geopoint-array': /^\[\s*[+-]?\d+(\.\d+)?\s*,\s*[+-]?\d+(\.\d+)?\s*\]$/,
  geopoint: /^[+-]?\d{1,3}\.\d+\s*,\s*[+-]?\d{1,2}\.\d+$/,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
  uri: /^https?:\/\/\S+$/,
};

const MAX_ENUM_VALUES = 12;
/** Column names of identifiers that happen to be digits: never numbers. */
const CODE_NAME =
  /(^|_)(code|cog|insee|siren|siret|cp|postal|id|identifiant|num|numero|pdl|telephone|tel)(_|$)/i;
const MAX_TRACKED_VALUES = 1000;

/**
 * Drafts a Table Schema from a sample of rows. Codes written with leading zeros (INSEE
 * codes, postcodes, SIREN, département numbers) stay strings: reading "01000" as the number
 * 1000 is the classic, silent way to corrupt French public data.
 */
export class SchemaInference {
  private readonly columns: ColumnStats[];
  private rows = 0;

  constructor(header: readonly string[]) {
    this.columns = header.map((name) => ({
      name,
      missing: 0,
      values: new Map(),
      fits: Object.fromEntries(Object.keys(tests).map((key) => [key, true])) as Record<Candidate, boolean>,
      leadingZero: false,
    }));
  }

  add(cells: readonly string[]): void {
    this.rows++;
    this.columns.forEach((column, index) => {
      const value = (cells[index] ?? '').trim();
      if (value === '') {
        column.missing++;
        return;
      }
      if (column.values.size < MAX_TRACKED_VALUES || column.values.has(value)) {
        column.values.set(value, (column.values.get(value) ?? 0) + 1);
      }
      if (/^[+-]?0\d/.test(value)) column.leadingZero = true;
      for (const candidate of Object.keys(tests) as Candidate[]) {
        if (column.fits[candidate] && !tests[candidate].test(value)) column.fits[candidate] = false;
      }
    });
  }

  fields(): Field[] {
    return this.columns.map((column) => this.field(column));
  }

  /** Digits that are an identifier: a leading zero, a code-like name, or SIREN/SIRET width. */
  private isCode(column: ColumnStats): boolean {
    if (!column.fits.integer) return false;
    if (column.leadingZero || CODE_NAME.test(column.name)) return true;
    const lengths = new Set([...column.values.keys()].map((value) => value.length));
    return lengths.size === 1 && [9, 14].includes([...lengths][0]!);
  }

  private field(column: ColumnStats): Field {
    const field: Field = { name: column.name, type: 'string', format: 'default' };
    const seen = column.values.size > 0;
    const fits = column.fits;
    if (!seen) {
      // Nothing to go on: a string, the type that accepts anything.
    } else if (fits.boolean) field.type = 'boolean';
    else if (fits.integer && !this.isCode(column)) field.type = 'integer';
    else if (fits.number && !fits.integer && !column.leadingZero) field.type = 'number';
    else if (fits.date) field.type = 'date';
    else if (fits['date-fr']) Object.assign(field, { type: 'date', format: '%d/%m/%Y' });
    else if (fits.datetime) field.type = 'datetime';
    else if (fits['geopoint-array']) Object.assign(field, { type: 'geopoint', format: 'array' });
    else if (fits.geopoint) field.type = 'geopoint';
    else if (fits.email) field.format = 'email';
    else if (fits.uri) field.format = 'uri';

    const constraints: NonNullable<Field['constraints']> = {};
    if (seen && column.missing === 0) constraints.required = true;
    const distinct = column.values.size;
    const isVocabulary =
      field.type === 'string' &&
      field.format === 'default' &&
      distinct <= MAX_ENUM_VALUES &&
      this.rows >= 2 * distinct &&
      this.rows >= 10;
    if (isVocabulary) constraints.enum = [...column.values.keys()].sort();
    if (field.type === 'string' && seen && this.isCode(column)) {
      const lengths = new Set([...column.values.keys()].map((value) => value.length));
      // A fixed-width code: say so, so that a lost zero is caught at validation.
      if (lengths.size === 1) constraints.pattern = `\\d{${[...lengths][0]}}`;
      field.description = 'an identifier written with digits: kept as text';
    }
    if (Object.keys(constraints).length > 0) field.constraints = constraints;
    return field;
  }
}
