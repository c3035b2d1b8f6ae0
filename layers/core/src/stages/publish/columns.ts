import type pg from 'pg';
import type { CopiedColumn } from './copy-rows';
import type { Field, TableSchema } from '../../platform/table-schema';
import { lineageColumns, quoteIdent } from '../../platform/warehouse';

/** A column of a published relation, with what each format needs to write it. */
export interface ExportColumn {
  name: string;
  /** PostgreSQL's type (format_type). */
  pgType: string;
  /** Declared NOT NULL (keys). */
  notNull: boolean;
  kind: 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'geometry' | 'json';
  /** The dataset's Table Schema field, when there is one (its format drives the CSV text). */
  field?: Field;
  description?: string;
}

/** The columns to publish: the relation's own, without the lineage columns. */
export async function exportColumns(
  client: pg.PoolClient | pg.Pool,
  relation: { schema: string; name: string },
  tableSchema?: TableSchema,
  descriptions: Record<string, string> = {},
): Promise<ExportColumn[]> {
  const { rows } = await client.query<{ name: string; type: string; not_null: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [`${quoteIdent(relation.schema)}.${quoteIdent(relation.name)}`],
  );
  const lineage = new Set<string>(lineageColumns.map((column) => column.name));
  return rows
    .filter((row) => !lineage.has(row.name))
    .map((row) => {
      const field = tableSchema?.fields.find((candidate) => candidate.name === row.name);
      return {
        name: row.name,
        pgType: row.type,
        notNull: row.not_null,
        kind: kindOf(row.type),
        field,
        description: field?.description ?? descriptions[row.name],
      };
    });
}

function kindOf(type: string): ExportColumn['kind'] {
  if (type.startsWith('geometry')) return 'geometry';
  if (/^(smallint|integer|bigint)$/.test(type)) return 'integer';
  if (/^(numeric|real|double precision)/.test(type)) return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'date') return 'date';
  if (type.startsWith('timestamp')) return 'datetime';
  if (type === 'json' || type === 'jsonb') return 'json';
  return 'string';
}

/**
 * The column as CSV text, as its Table Schema field reads it back (so an export validates
 * against the dataset's own schema): booleans as true/false, geopoints in the field's format,
 * other geometries as GeoJSON.
 */
export function csvExpression(column: ExportColumn): string {
  const ref = quoteIdent(column.name);
  switch (column.kind) {
    case 'boolean':
      return `CASE WHEN ${ref} THEN 'true' WHEN NOT ${ref} THEN 'false' END`;
    case 'geometry': {
      if (column.field?.type !== 'geopoint') return `ST_AsGeoJSON(${ref})`;
      const x = `ST_X(${ref})`;
      const y = `ST_Y(${ref})`;
      if (column.field.format === 'array') return `'[' || ${x} || ',' || ${y} || ']'`;
      if (column.field.format === 'object') return `json_build_object('lon', ${x}, 'lat', ${y})::text`;
      return `${x} || ', ' || ${y}`;
    }
    default:
      return ref;
  }
}

/**
 * How a format reads the column from COPY's binary output (see copyRows): geometries as GeoJSON
 * text or WKB; numbers as PostgreSQL writes them (exact: text) or as doubles and 64-bit
 * integers (Parquet's types).
 */
export function copiedColumn(
  column: ExportColumn,
  as: { geometry: 'geojson' | 'wkb'; numbers: 'text' | 'typed' },
): CopiedColumn {
  const ref = quoteIdent(column.name);
  switch (column.kind) {
    case 'geometry':
      return as.geometry === 'wkb'
        ? { expression: `ST_AsBinary(${ref})`, type: 'bytes' }
        : { expression: `ST_AsGeoJSON(${ref})`, type: 'text' };
    case 'integer':
      return { expression: ref, type: as.numbers === 'typed' ? 'int8' : 'text' };
    case 'number':
      return { expression: ref, type: as.numbers === 'typed' ? 'float' : 'text' };
    case 'boolean':
      return { expression: ref, type: 'bool' };
    case 'date':
      return { expression: ref, type: 'date' };
    case 'datetime':
      return { expression: ref, type: 'time', cast: zoned(column) ? 'timestamptz' : 'timestamp' };
    default:
      return { expression: ref, type: 'text' };
  }
}

/** A timestamp with a time zone (an instant), rather than a wall-clock time. */
export function zoned(column: ExportColumn): boolean {
  return column.pgType.startsWith('timestamp with time zone');
}

/** Table Schema field type of a model's column (datasets publish their own schema). */
export function tableSchemaType(column: ExportColumn): string {
  return column.kind === 'geometry' ? 'geojson' : column.kind === 'json' ? 'object' : column.kind;
}

/** A Table Schema field as the documentation pages show it (Markdown page and portal). */
export function describeField(field: Field): {
  name: string;
  type: string;
  required: boolean;
  description: string;
  constraints: string;
} {
  const { required, ...constraints } = field.constraints ?? {};
  return {
    name: field.name,
    type: `${field.type}${field.format && field.format !== 'default' ? ` (${field.format})` : ''}`,
    required: Boolean(required),
    description: field.description ?? field.title ?? '',
    constraints: Object.entries(constraints)
      .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`)
      .join('; '),
  };
}
