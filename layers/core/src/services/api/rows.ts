import Papa from 'papaparse';
import type pg from 'pg';
import { csvExpression, exportColumns, type ExportColumn } from '../../stages/publish/columns';
import type { Output } from '../../stages/publish/outputs';
import type { Project } from '../../platform/project';
import { qualified, quoteIdent } from '../../platform/warehouse';
import { badRequest, json, notFound, Problem, text, type ApiResponse, type ProblemDetail } from './http';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1_000;
export const STATEMENT_TIMEOUT_MS = 5_000;

/** Filter operators: `field=` is `eq`; the others are suffixes, `field__gte=`. */
export const filterOperators = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'contains'] as const;
export type FilterOperator = (typeof filterOperators)[number];
/** Query parameters that are not filters. */
export const reservedParameters = ['order', 'limit', 'cursor', 'format', 'bbox', 'fields'] as const;
export const formats = ['json', 'csv', 'geojson'] as const;

/** Which operators a column kind takes. */
export function operatorsFor(column: ExportColumn): FilterOperator[] {
  switch (column.kind) {
    case 'geometry':
    case 'json':
      return [];
    case 'string':
      return [...filterOperators];
    case 'boolean':
      return ['eq', 'ne', 'in'];
    default:
      return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'];
  }
}

/**
 * What a filter value of each kind must look like (the OpenAPI document says the same, as
 * JSON Schema types and formats); PostgreSQL then judges the value itself.
 */
const valuePatterns: Partial<Record<ExportColumn['kind'], [RegExp, string]>> = {
  integer: [/^-?[0-9]{1,20}$/, 'an integer'],
  number: [/^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/, 'a number'],
  boolean: [/^(true|false)$/, 'true or false'],
  date: [/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'a date, YYYY-MM-DD'],
  datetime: [
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$/,
    'a date-time, RFC 3339 (ISO 8601)',
  ],
};

/**
 * The integer filter values the API takes for each PostgreSQL integer type: the type's range,
 * bigint's narrowed to ±(2^53 - 1), the integers a JSON number (and the OpenAPI document's
 * bounds) carries exactly.
 */
export const integerRanges: Record<string, [number, number]> = {
  smallint: [-32_768, 32_767],
  integer: [-2_147_483_648, 2_147_483_647],
  bigint: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** A string filter value: any text but NUL, which PostgreSQL text cannot hold. */
export const TEXT_PATTERN = '^[^\\u0000]*$';
/** An item of a string `in` list: not empty, no comma (the list separator), no NUL. */
export const LIST_ITEM_PATTERN = '^[^,\\u0000]+$';
/** What a cursor looks like (base64url); only a `next` link gives one that names a page. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,4000}$';

interface Filter {
  column: ExportColumn;
  operator: FilterOperator;
  values: string[];
}

interface SortKey {
  expression: string;
  /** PostgreSQL type of the cursor value. */
  type: string;
  descending: boolean;
  /** `(column IS NULL)`: sorts nulls last. */
  nullFlag?: boolean;
}

export interface RowsRequest {
  filters: Filter[];
  /** Sort keys, tie-breakers included: what the cursor holds. */
  keys: SortKey[];
  /** The `order` parameter as given (the cursor is bound to it). */
  order: string;
  limit: number;
  cursor?: (string | null)[];
  format: (typeof formats)[number];
  bbox?: [number, number, number, number];
  columns: ExportColumn[];
}

/** The columns a page may be sorted on last, so that the order is total. */
function tieBreakers(output: Output, project: Project, columns: ExportColumn[], relkind: string): SortKey[] {
  const dataset = project.datasets.find((candidate) => candidate.id === output.name);
  const model = project.models.find((candidate) => candidate.name === output.name);
  const key = [dataset?.tableSchema.primaryKey ?? model?.header.unique_key ?? []].flat();
  const keyColumns = key.map((name) => columns.find((column) => column.name === name));
  if (key.length > 0 && keyColumns.every((column) => column?.notNull))
    return keyColumns.map((column) => ({
      expression: quoteIdent(column!.name),
      type: column!.pgType,
      descending: false,
    }));
  // No declared key: the row's physical address (stable while the data is; a TID range scan).
  if (relkind === 'r') return [{ expression: 'ctid', type: 'tid', descending: false }];
  // A view: every comparable column.
  return columns
    .filter((column) => operatorsFor(column).length > 0)
    .flatMap((column) => sortKeysOf(column, false));
}

/** A column as sort keys: nulls last (a flag first) unless the column cannot be null. */
function sortKeysOf(column: ExportColumn, descending: boolean): SortKey[] {
  const ref = quoteIdent(column.name);
  const value = { expression: ref, type: column.pgType, descending };
  return column.notNull
    ? [value]
    : [{ expression: `(${ref} IS NULL)`, type: 'boolean', descending: false, nullFlag: true }, value];
}

/** Why the values of a filter cannot be taken (undefined when they can). */
function filterValueProblem(
  column: ExportColumn,
  operator: FilterOperator,
  values: string[],
): string | undefined {
  if (operator === 'in' && values.length > 100) return 'at most 100 values';
  if (values.some((value) => value.includes('\0'))) return 'a value cannot hold the NUL character';
  if (operator === 'in' && values.some((value) => value === ''))
    return 'an empty value in the list: give values separated by commas';
  const pattern = valuePatterns[column.kind];
  const wrong = pattern && operator !== 'contains' ? values.find((one) => !pattern[0].test(one)) : undefined;
  if (wrong !== undefined) return `"${wrong.slice(0, 50)}" is not ${pattern![1]}`;
  const range = integerRanges[column.pgType];
  if (
    range !== undefined &&
    values.some((value) => BigInt(value) < BigInt(range[0]) || BigInt(value) > BigInt(range[1]))
  )
    return `out of the range of ${column.name} (${column.pgType}): ${range[0]} to ${range[1]}`;
  return undefined;
}

/** Reads and checks the query string of a rows request; every problem at once. */
export function parseRowsRequest(
  query: URLSearchParams,
  output: Output,
  project: Project,
  columns: ExportColumn[],
  relkind: string,
): RowsRequest {
  const errors: ProblemDetail[] = [];
  const byName = new Map(columns.map((column) => [column.name, column]));
  const filters: Filter[] = [];
  for (const [parameter, value] of query) {
    if ((reservedParameters as readonly string[]).includes(parameter)) continue;
    const [name, operator = 'eq', ...rest] = parameter.split('__');
    const column = byName.get(name!);
    if (!column || rest.length > 0) {
      errors.push({
        parameter,
        message: column
          ? `unknown operator; use one of ${operatorsFor(column).join(', ')}`
          : `${name} is not a field of ${output.name}`,
      });
      continue;
    }
    if (
      !(filterOperators as readonly string[]).includes(operator) ||
      !operatorsFor(column).includes(operator as FilterOperator)
    ) {
      errors.push({
        parameter,
        message:
          operatorsFor(column).length === 0
            ? `${column.name} (${column.kind}) cannot be filtered${column.kind === 'geometry' ? '; use bbox' : ''}`
            : `${operator} does not apply to ${column.name} (${column.kind}); use ${operatorsFor(column).join(', ')}`,
      });
      continue;
    }
    const values = operator === 'in' ? value.split(',') : [value];
    const problem = filterValueProblem(column, operator as FilterOperator, values);
    if (problem) {
      errors.push({ parameter, message: problem });
      continue;
    }
    filters.push({ column, operator: operator as FilterOperator, values });
  }

  const order = query.get('order') ?? '';
  const keys: SortKey[] = [];
  for (const term of order.split(',').filter(Boolean)) {
    const descending = term.startsWith('-');
    const column = byName.get(descending ? term.slice(1) : term);
    if (!column || operatorsFor(column).length === 0)
      errors.push({
        parameter: 'order',
        message: column ? `${column.name} cannot be sorted on` : `${term} is not a field of ${output.name}`,
      });
    else keys.push(...sortKeysOf(column, descending));
  }
  keys.push(...tieBreakers(output, project, columns, relkind));

  const limitText = query.get('limit') ?? String(DEFAULT_PAGE_SIZE);
  const limit = /^\d{1,7}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE))
    errors.push({ parameter: 'limit', message: `an integer from 1 to ${MAX_PAGE_SIZE}` });

  const format = query.get('format') ?? 'json';
  if (!(formats as readonly string[]).includes(format))
    errors.push({ parameter: 'format', message: `one of ${formats.join(', ')}` });
  const spatial = columns.some((column) => column.kind === 'geometry');
  if (format === 'geojson' && !spatial)
    errors.push({ parameter: 'format', message: `${output.name} has no geometry: json or csv` });

  let bbox: RowsRequest['bbox'];
  const bboxText = query.get('bbox');
  if (bboxText !== null) {
    const numbers = bboxText
      .split(',')
      .map((part) => (valuePatterns.number![0].test(part) ? Number(part) : NaN));
    const [west, south, east, north] = numbers;
    if (!spatial) errors.push({ parameter: 'bbox', message: `${output.name} has no geometry` });
    else if (
      numbers.length !== 4 ||
      numbers.some((n) => !Number.isFinite(n)) ||
      [west!, east!].some((longitude) => Math.abs(longitude) > 180) ||
      [south!, north!].some((latitude) => Math.abs(latitude) > 90)
    )
      errors.push({
        parameter: 'bbox',
        message: 'west,south,east,north in degrees (WGS 84): longitudes within ±180, latitudes within ±90',
      });
    // Latitudes in either order; west > east crosses the antimeridian (as in OGC API - Features).
    else bbox = [west!, Math.min(south!, north!), east!, Math.max(south!, north!)];
  }

  const fieldsText = query.get('fields');
  let selected = columns;
  if (fieldsText !== null) {
    const names = [...new Set(fieldsText.split(',').filter(Boolean))];
    const unknown = names.filter((name) => !byName.has(name));
    if (unknown.length > 0 || names.length === 0)
      errors.push({
        parameter: 'fields',
        message: `not fields of ${output.name}: ${unknown.join(', ') || '(none given)'}`,
      });
    else selected = names.map((name) => byName.get(name)!);
  }

  const cursor = query.get('cursor') ?? undefined;
  let values: (string | null)[] | undefined;
  let unknownPage = false;
  if (cursor !== undefined) {
    if (!new RegExp(CURSOR_PATTERN).test(cursor))
      errors.push({ parameter: 'cursor', message: 'not a cursor: use the next link as given' });
    else {
      values = decodeCursor(cursor, order, keys.length);
      unknownPage = !values;
    }
  }
  if (errors.length > 0) throw badRequest(`invalid parameters for ${output.name} rows`, errors);
  // A well-formed cursor that no page of this listing (this order) gave: that page does not exist.
  if (unknownPage)
    throw notFound(
      `no such page of ${output.name}: the cursor was not given by this listing; follow the next link as given`,
    );
  return {
    filters,
    keys,
    order,
    limit,
    cursor: values,
    format: format as RowsRequest['format'],
    bbox,
    columns: selected,
  };
}

/** Cursors are opaque to clients: the sort values of the last row, bound to the order. */
export function encodeCursor(order: string, values: (string | null)[]): string {
  return Buffer.from(JSON.stringify({ o: order, v: values })).toString('base64url');
}

function decodeCursor(cursor: string, order: string, size: number): (string | null)[] | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      o?: unknown;
      v?: unknown;
    };
    if (parsed.o !== order || !Array.isArray(parsed.v) || parsed.v.length !== size) return undefined;
    if (!parsed.v.every((value) => value === null || (typeof value === 'string' && value.length < 10_000)))
      return undefined;
    return parsed.v as (string | null)[];
  } catch {
    return undefined;
  }
}

/**
 * The type a filter value is read as: the column's own, without its modifier (a value longer
 * than a varchar(n) or wider than a numeric(p, s) is compared, not cut down or refused).
 */
function filterType(column: ExportColumn): string {
  if (column.kind === 'string') return 'text';
  return column.pgType.replace(/\(.*\)/, '');
}

/** A date-time filter value as its local part and its offset (+00:00 when it has none). */
function splitOffset(value: string): { local: string; offset: string } {
  const match = /([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$/.exec(value.length > 10 ? value : '');
  if (!match) return { local: value, offset: '00:00' };
  const zone = match[1]!;
  const local = value.slice(0, -zone.length);
  if (/^[Zz]$/.test(zone)) return { local, offset: '00:00' };
  const digits = zone.slice(1).replace(':', '');
  return { local, offset: `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}` };
}

/** The WHERE clause: filters, bbox and the keyset condition, every value a parameter. */
function whereClause(request: RowsRequest, geometry: ExportColumn | undefined, params: unknown[]): string {
  const bind = (value: unknown, type?: string) => {
    params.push(value);
    return type ? `$${params.length}::${type}` : `$${params.length}`;
  };
  const conditions: string[] = [];
  for (const { column, operator, values } of request.filters) {
    const ref = quoteIdent(column.name);
    if (operator === 'contains') {
      conditions.push(`strpos(lower(${ref}::text), lower(${bind(values[0])})) > 0`);
      continue;
    }
    const sql = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', in: '= ANY' }[operator];
    if (column.kind === 'datetime') {
      // The offset applied here, not by PostgreSQL: RFC 3339 allows offsets up to ±23:59, its
      // input only ±15:59. A value without an offset is UTC.
      const instants = values.map(splitOffset);
      const local = bind(
        instants.map((instant) => instant.local),
        'text[]',
      );
      const offsets = bind(
        instants.map((instant) => instant.offset),
        'text[]',
      );
      const utc = `SELECT (l::timestamp - o::interval) AT TIME ZONE 'UTC' FROM unnest(${local}, ${offsets}) AS v(l, o)`;
      conditions.push(operator === 'in' ? `${ref} = ANY(ARRAY(${utc}))` : `${ref} ${sql} (${utc})`);
      continue;
    }
    const type = filterType(column);
    conditions.push(
      operator === 'in'
        ? `${ref} = ANY(${bind(values, `${type}[]`)})`
        : `${ref} ${sql} ${bind(values[0], type)}`,
    );
  }
  if (request.bbox && geometry) {
    const [west, south, east, north] = request.bbox;
    const envelope = (from: number, to: number) =>
      `${quoteIdent(geometry.name)} && ST_MakeEnvelope(${[from, south, to, north].map((n) => bind(n, 'float8')).join(', ')}, 4326)`;
    conditions.push(
      west <= east ? envelope(west, east) : `(${envelope(west, 180)} OR ${envelope(-180, east)})`,
    );
  }
  if (request.cursor) {
    const keys = request.keys;
    const cursor = request.cursor;
    const sameDirection = keys.every((key) => !key.descending);
    const noNulls = cursor.every((value) => value !== null);
    if (sameDirection && noNulls && keys.every((key) => !key.nullFlag))
      // Row comparison: what a composite index (or a TID range scan) serves directly.
      conditions.push(
        `(${keys.map((key) => key.expression).join(', ')}) > (${keys.map((key, i) => bind(cursor[i], key.type)).join(', ')})`,
      );
    else {
      const alternatives = keys.map((key, index) => {
        const equal = keys
          .slice(0, index)
          .map(
            (previous, j) => `${previous.expression} IS NOT DISTINCT FROM ${bind(cursor[j], previous.type)}`,
          );
        const after = `${key.expression} ${key.descending ? '<' : '>'} ${bind(cursor[index], key.type)}`;
        return `(${[...equal, after].join(' AND ')})`;
      });
      conditions.push(`(${alternatives.join(' OR ')})`);
    }
  }
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** A column as the JSON formats give it. */
function jsonSelect(column: ExportColumn): string {
  const ref = quoteIdent(column.name);
  switch (column.kind) {
    case 'geometry':
      return `ST_AsGeoJSON(${ref})::json`;
    case 'date':
      return `to_char(${ref}, 'YYYY-MM-DD')`;
    case 'datetime':
      return `to_json(${ref})`;
    default:
      return ref;
  }
}

/** One page of rows, in the requested format, with the link to the next one. */
export async function rowsPage(
  client: pg.PoolClient,
  output: Output,
  request: RowsRequest,
  self: URL,
): Promise<ApiResponse> {
  const relation = qualified(output.relation.schema, output.relation.name);
  const all = await exportColumns(client, output.relation, output.tableSchema);
  const geometry = all.find((column) => column.kind === 'geometry');
  const params: unknown[] = [];
  const where = whereClause(request, geometry, params);
  const csv = request.format === 'csv';
  const selected =
    request.format === 'geojson' && geometry && !request.columns.includes(geometry)
      ? [...request.columns, geometry]
      : request.columns;
  const values = selected.map(
    (column, index) => `${csv ? `(${csvExpression(column)})::text` : jsonSelect(column)} AS c${index}`,
  );
  const cursorValues = request.keys.map((key, index) => `(${key.expression})::text AS k${index}`);
  const orderBy = request.keys.map((key) => `${key.expression}${key.descending ? ' DESC' : ''}`).join(', ');
  const select = `SELECT ${[...values, ...cursorValues].join(', ')} FROM ${relation}`;
  let rows: Record<string, unknown>[];
  try {
    rows = physicalListing(request)
      ? await physicalPages(client, relation, select, where, params, request)
      : (
          await client.query<Record<string, unknown>>({
            text: `${select} ${where} ORDER BY ${orderBy} LIMIT ${request.limit + 1}`,
            values: params,
          })
        ).rows;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '57014')
      throw new Problem(
        503,
        'Query too long',
        `the query ran over ${STATEMENT_TIMEOUT_MS / 1000} s: narrow it with filters or bbox`,
        [],
        { 'retry-after': '5' },
      );
    // A value PostgreSQL could not take for its column (out of range, invalid date…).
    if (code?.startsWith('22'))
      throw badRequest(`a filter value does not fit its field: ${(error as Error).message}`);
    throw error;
  }
  const more = rows.length > request.limit;
  const page = rows.slice(0, request.limit);
  let next: string | null = null;
  if (more) {
    const last = page[page.length - 1]!;
    const url = new URL(self);
    url.searchParams.set(
      'cursor',
      encodeCursor(
        request.order,
        request.keys.map((_, index) => (last[`k${index}`] as string | null) ?? null),
      ),
    );
    next = url.toString();
  }
  const headers: Record<string, string> = next ? { link: `<${next}>; rel="next"` } : {};
  const record = (row: Record<string, unknown>) =>
    Object.fromEntries(selected.map((column, index) => [column.name, jsonValue(column, row[`c${index}`])]));
  if (csv) {
    const body = Papa.unparse(
      {
        fields: selected.map((column) => column.name),
        data: page.map((row) => selected.map((_, index) => row[`c${index}`] ?? '')),
      },
      { newline: '\n' },
    );
    return text(200, `${body}\n`, 'text/csv; charset=utf-8', headers);
  }
  if (request.format === 'geojson') {
    const features = page.map((row) => {
      const properties = record(row);
      const shape = properties[geometry!.name] ?? null;
      delete properties[geometry!.name];
      return { type: 'Feature', geometry: shape, properties };
    });
    return json(
      200,
      { type: 'FeatureCollection', features, links: { self: self.toString(), next } },
      {
        ...headers,
        'content-type': 'application/geo+json',
      },
    );
  }
  return json(
    200,
    {
      data: page.map(record),
      links: { self: self.toString(), next },
      meta: { limit: request.limit, returned: page.length },
    },
    headers,
  );
}

/** A whole table listed in its physical order (no key, no filter): ORDER BY ctid would sort it all. */
const physicalListing = (request: RowsRequest) =>
  request.keys.length === 1 &&
  request.keys[0]!.expression === 'ctid' &&
  request.filters.length === 0 &&
  !request.bbox;

/**
 * The next page of a physical listing, read through windows of table blocks after the cursor
 * (a TID range scan each), four times larger each time until the page is full or the table
 * ends: a page costs a few blocks and a small sort, however deep it is.
 */
async function physicalPages(
  client: pg.PoolClient,
  relation: string,
  select: string,
  where: string,
  params: unknown[],
  request: RowsRequest,
): Promise<Record<string, unknown>[]> {
  const { rows: size } = await client.query<{ pages: string }>(
    `SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int) + 1 AS pages`,
    [relation],
  );
  const pages = Number(size[0]!.pages);
  const from = request.cursor ? Number(/^\((\d+),/.exec(request.cursor[0] ?? '')?.[1] ?? 0) : 0;
  for (let span = 16; ; span *= 4) {
    const end = Math.min(from + span, pages);
    const window = `ctid < '(${end},0)'::tid`;
    const { rows } = await client.query<Record<string, unknown>>({
      text: `${select} ${where ? `${where} AND ${window}` : `WHERE ${window}`} ORDER BY ctid LIMIT ${request.limit + 1}`,
      values: params,
    });
    if (rows.length > request.limit || end >= pages) return rows;
  }
}

/** Numbers PostgreSQL sends as text (bigint, numeric) become JSON numbers. */
function jsonValue(column: ExportColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if ((column.kind === 'integer' || column.kind === 'number') && typeof value === 'string')
    return Number(value);
  return value;
}
