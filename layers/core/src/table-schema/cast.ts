import type { Field } from './schema';

/**
 * Turns a cell's text into the canonical text PostgreSQL reads for the field's column
 * type (see ddl.ts), or says why it cannot. Pure and synchronous: it runs once per cell.
 */
export type CastResult =
  { ok: true; value: string | null } | { ok: false; type: CellErrorType; message: string };

export type CellErrorType = 'type-error' | 'constraint-error';

const DEFAULT_TRUE = ['true', 'True', 'TRUE', '1'];
const DEFAULT_FALSE = ['false', 'False', 'FALSE', '0'];

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoTime = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

export interface CompiledField {
  field: Field;
  cast: (text: string) => CastResult;
}

/** Prepares a field once (regexes, enum sets), so casting a cell is cheap. */
export function compileField(field: Field): CompiledField {
  const typeCast = typeCaster(field);
  const checks = constraintCheckers(field);
  return {
    field,
    cast(text: string): CastResult {
      const typed = typeCast(text);
      if (!typed.ok) return typed;
      for (const check of checks) {
        const problem = check(text, typed.value);
        if (problem) return { ok: false, type: 'constraint-error', message: problem };
      }
      return typed;
    },
  };
}

function typeError(field: Field, text: string, expected: string): CastResult {
  return {
    ok: false,
    type: 'type-error',
    message: `"${truncate(text)}" is not ${expected} (field "${field.name}", type ${field.type}${
      field.format !== 'default' ? `, format ${field.format}` : ''
    })`,
  };
}

function typeCaster(field: Field): (text: string) => CastResult {
  const ok = (value: string | null): CastResult => ({ ok: true, value });
  switch (field.type) {
    case 'string':
      return stringCaster(field);
    case 'integer':
      return (text) => {
        const cleaned = field.bareNumber === false ? text.replace(/^[^\d-]+|[^\d]+$/g, '') : text;
        return /^[+-]?\d+$/.test(cleaned)
          ? ok(cleaned.replace(/^\+/, ''))
          : typeError(field, text, 'an integer');
      };
    case 'number':
      return numberCaster(field);
    case 'boolean': {
      const trueValues = new Set(field.trueValues ?? DEFAULT_TRUE);
      const falseValues = new Set(field.falseValues ?? DEFAULT_FALSE);
      return (text) =>
        trueValues.has(text)
          ? ok('t')
          : falseValues.has(text)
            ? ok('f')
            : typeError(field, text, 'a boolean');
    }
    case 'date':
      return dateCaster(field);
    case 'time':
      return (text) => (isoTime.test(text) ? ok(text) : typeError(field, text, 'a time (HH:MM:SS)'));
    case 'datetime':
      return (text) =>
        isoDateTime.test(text) && !Number.isNaN(Date.parse(text))
          ? ok(text)
          : typeError(field, text, 'a datetime (YYYY-MM-DDThh:mm:ssZ)');
    case 'year':
      return (text) => (/^\d{4}$/.test(text) ? ok(text) : typeError(field, text, 'a year'));
    case 'yearmonth':
      return (text) =>
        /^\d{4}-(0[1-9]|1[0-2])$/.test(text) ? ok(text) : typeError(field, text, 'a year-month (YYYY-MM)');
    case 'geopoint':
      return geopointCaster(field);
    case 'geojson':
      return (text) => {
        const value = parseJson(text);
        return value && typeof value === 'object' && 'type' in value
          ? ok(text)
          : typeError(field, text, 'a GeoJSON object');
      };
    case 'object':
      return (text) => {
        const value = parseJson(text);
        return value && typeof value === 'object' && !Array.isArray(value)
          ? ok(text)
          : typeError(field, text, 'a JSON object');
      };
    case 'array':
      return (text) => (Array.isArray(parseJson(text)) ? ok(text) : typeError(field, text, 'a JSON array'));
    case 'duration':
      return (text) =>
        /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(text)
          ? ok(text)
          : typeError(field, text, 'an ISO 8601 duration');
    case 'any':
      return ok;
  }
}

function stringCaster(field: Field): (text: string) => CastResult {
  const ok = (value: string): CastResult => ({ ok: true, value });
  switch (field.format) {
    case 'email':
      return (text) =>
        /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text) ? ok(text) : typeError(field, text, 'an email address');
    case 'uri':
      return (text) =>
        /^[a-zA-Z][a-zA-Z\d+.-]*:\S+$/.test(text) ? ok(text) : typeError(field, text, 'a URI');
    case 'uuid':
      return (text) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)
          ? ok(text)
          : typeError(field, text, 'a UUID');
    default:
      return ok;
  }
}

function numberCaster(field: Field): (text: string) => CastResult {
  const decimalChar = field.decimalChar ?? '.';
  const groupChar = field.groupChar ?? '';
  return (text) => {
    let cleaned = text;
    if (groupChar) cleaned = cleaned.split(groupChar).join('');
    if (decimalChar !== '.') cleaned = cleaned.replace(decimalChar, '.');
    if (field.bareNumber === false) cleaned = cleaned.replace(/^[^\d+-.]+|[^\d]+$/g, '');
    if (/^(NaN|INF|-INF)$/.test(cleaned)) return { ok: true, value: cleaned.replace('INF', 'Infinity') };
    return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)
      ? { ok: true, value: cleaned }
      : typeError(field, text, 'a number');
  };
}

function dateCaster(field: Field): (text: string) => CastResult {
  const format = field.format;
  if (format === 'default' || format === 'any' || format === '%Y-%m-%d') {
    return (text) => {
      const match = isoDate.exec(text);
      if (!match || !isRealDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
        return typeError(field, text, 'a date (YYYY-MM-DD)');
      }
      return { ok: true, value: text };
    };
  }
  // strptime-like pattern, e.g. %d/%m/%Y
  const order: string[] = [];
  const pattern = new RegExp(
    `^${format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%([dmY])/g, (_m, part: string) => {
      order.push(part);
      return part === 'Y' ? '(\\d{4})' : '(\\d{1,2})';
    })}$`,
  );
  return (text) => {
    const match = pattern.exec(text);
    if (!match) return typeError(field, text, `a date in format ${format}`);
    const parts: Record<string, number> = {};
    order.forEach((part, index) => (parts[part] = Number(match[index + 1])));
    const year = parts.Y ?? NaN;
    const month = parts.m ?? NaN;
    const day = parts.d ?? 1;
    if (!isRealDate(year, month, day)) return typeError(field, text, `a date in format ${format}`);
    return { ok: true, value: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
  };
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function geopointCaster(field: Field): (text: string) => CastResult {
  const toPoint = (lon: number, lat: number, text: string): CastResult => {
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      return typeError(field, text, 'a geopoint with longitude in [-180, 180] and latitude in [-90, 90]');
    }
    return { ok: true, value: `SRID=4326;POINT(${lon} ${lat})` };
  };
  return (text) => {
    if (field.format === 'array') {
      const value = parseJson(text);
      if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => typeof n === 'number')) {
        return typeError(field, text, 'a geopoint [lon, lat]');
      }
      return toPoint(value[0] as number, value[1] as number, text);
    }
    if (field.format === 'object') {
      const value = parseJson(text) as { lon?: unknown; lat?: unknown } | undefined;
      if (!value || typeof value.lon !== 'number' || typeof value.lat !== 'number') {
        return typeError(field, text, 'a geopoint {"lon": …, "lat": …}');
      }
      return toPoint(value.lon, value.lat, text);
    }
    const match = /^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$/.exec(text);
    if (!match) return typeError(field, text, 'a geopoint "lon, lat"');
    return toPoint(Number(match[1]), Number(match[2]), text);
  };
}

type ConstraintCheck = (text: string, value: string | null) => string | undefined;

function constraintCheckers(field: Field): ConstraintCheck[] {
  const constraints = field.constraints ?? {};
  const checks: ConstraintCheck[] = [];
  if (constraints.pattern !== undefined && (field.type === 'string' || field.type === 'any')) {
    // The spec anchors patterns: the whole value must match.
    const pattern = new RegExp(`^(?:${constraints.pattern})$`, 'u');
    checks.push((text) =>
      pattern.test(text)
        ? undefined
        : `"${truncate(text)}" does not match the pattern ${constraints.pattern} (field "${field.name}")`,
    );
  }
  if (constraints.enum !== undefined) {
    const allowed = new Set(constraints.enum.map(String));
    checks.push((text, value) =>
      allowed.has(text) || (value !== null && allowed.has(value))
        ? undefined
        : `"${truncate(text)}" is not one of the allowed values of "${field.name}" (${[...allowed].slice(0, 8).join(', ')}${allowed.size > 8 ? ', …' : ''})`,
    );
  }
  if (constraints.minLength !== undefined) {
    const min = constraints.minLength;
    checks.push((text) =>
      [...text].length < min ? `"${truncate(text)}" is shorter than ${min} characters` : undefined,
    );
  }
  if (constraints.maxLength !== undefined) {
    const max = constraints.maxLength;
    checks.push((text) =>
      [...text].length > max ? `"${truncate(text)}" is longer than ${max} characters` : undefined,
    );
  }
  const numeric = field.type === 'integer' || field.type === 'number' || field.type === 'year';
  const comparable = numeric || field.type === 'date' || field.type === 'datetime' || field.type === 'time';
  if (comparable && constraints.minimum !== undefined) {
    const min = constraints.minimum;
    checks.push((_text, value) =>
      value !== null && compare(value, min, numeric) < 0
        ? `${value} is below the minimum ${min} of "${field.name}"`
        : undefined,
    );
  }
  if (comparable && constraints.maximum !== undefined) {
    const max = constraints.maximum;
    checks.push((_text, value) =>
      value !== null && compare(value, max, numeric) > 0
        ? `${value} is above the maximum ${max} of "${field.name}"`
        : undefined,
    );
  }
  return checks;
}

function compare(value: string, bound: string | number, numeric: boolean): number {
  if (numeric) return Number(value) - Number(bound);
  const a = String(value);
  const b = String(bound);
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
