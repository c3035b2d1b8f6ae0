import type pg from 'pg';
import { TerminalError } from '../errors/errors';
import { asList, type Field, type TableSchema } from '../table-schema';
import { columnType } from './column-types';
import { qualified, quoteIdent } from './sql';

export { columnType };

/** Columns every raw table carries, so a row can be traced back to its file. */
export const lineageColumns = [
  { name: '_load_id', type: 'uuid NOT NULL' },
  { name: '_source_key', type: 'text NOT NULL' },
  { name: '_row_number', type: 'bigint NOT NULL' },
  { name: '_loaded_at', type: 'timestamptz NOT NULL DEFAULT now()' },
] as const;

export function createTableSql(
  schemaName: string,
  table: string,
  tableSchema: TableSchema,
  /** false: the caller adds the primary key once the rows are in (see addPrimaryKey). */
  withPrimaryKey = true,
): string {
  const columns = tableSchema.fields.map((field) => `${quoteIdent(field.name)} ${columnType(field)}`);
  const lineage = lineageColumns.map((column) => `${quoteIdent(column.name)} ${column.type}`);
  const primaryKey = asList(tableSchema.primaryKey);
  const constraints =
    withPrimaryKey && primaryKey.length > 0 ? [`PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`] : [];
  return `CREATE TABLE ${qualified(schemaName, table)} (\n  ${[...columns, ...lineage, ...constraints].join(',\n  ')}\n)`;
}

/** The schema's primary key on a filled table: one sorted index build, not one insert per row. */
export async function addPrimaryKey(
  client: pg.PoolClient,
  schemaName: string,
  table: string,
  tableSchema: TableSchema,
): Promise<void> {
  const primaryKey = asList(tableSchema.primaryKey);
  if (primaryKey.length === 0) return;
  await client.query(
    `ALTER TABLE ${qualified(schemaName, table)} ADD PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`,
  );
}

/** Name of the GiST index of a geometry column (see indexGeometries). */
export function geometryIndexName(table: string, field: Field): string {
  return `${table}_${field.name}_gist`.slice(0, 63);
}

/** Fields whose column is a PostGIS geometry. */
export function geometryFields(fields: Field[]): Field[] {
  return fields.filter((field) => field.type === 'geopoint' || field.type === 'geojson');
}

interface ExistingColumn {
  column_name: string;
  type: string;
}

/**
 * Makes the table match the schema: creates it, or adds new optional fields. A change that
 * would lose or reinterpret data (a removed, retyped or newly required field) is refused and
 * the table stays as it was.
 */
export async function ensureTable(
  client: pg.PoolClient,
  schemaName: string,
  table: string,
  tableSchema: TableSchema,
): Promise<'created' | 'unchanged' | 'evolved'> {
  const { rows } = await client.query<ExistingColumn>(
    `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [`${quoteIdent(schemaName)}.${quoteIdent(table)}`],
  );
  if (rows.length === 0) {
    await client.query(createTableSql(schemaName, table, tableSchema));
    await indexGeometries(client, schemaName, table, tableSchema.fields);
    return 'created';
  }
  const existing = new Map(rows.map((row) => [row.column_name, row.type]));
  const problems: string[] = [];
  const additions: Field[] = [];
  for (const field of tableSchema.fields) {
    const type = existing.get(field.name);
    const expected = normalizeType(columnType(field));
    if (type === undefined) {
      if (field.constraints?.required)
        problems.push(`new field "${field.name}" is required, existing rows have no value`);
      else additions.push(field);
    } else if (normalizeType(type) !== expected) {
      problems.push(`field "${field.name}" changes type from ${type} to ${expected}`);
    }
  }
  const lineageNames = new Set<string>(lineageColumns.map((column) => column.name));
  const fieldNames = new Set(tableSchema.fields.map((field) => field.name));
  for (const name of existing.keys()) {
    if (!fieldNames.has(name) && !lineageNames.has(name))
      problems.push(`field "${name}" was removed from the schema`);
  }
  if (problems.length > 0) {
    throw new TerminalError(
      `the schema of ${schemaName}.${table} changed incompatibly: ${problems.join('; ')}`,
      'publish the change as a new dataset, or migrate the table by hand and redeploy',
    );
  }
  for (const field of additions) {
    await client.query(
      `ALTER TABLE ${qualified(schemaName, table)} ADD COLUMN ${quoteIdent(field.name)} ${columnType(field)}`,
    );
  }
  await indexGeometries(client, schemaName, table, tableSchema.fields);
  return additions.length > 0 ? 'evolved' : 'unchanged';
}

/**
 * A GiST index on each geometry column: spatial joins (a point in which polygon?) probe it
 * instead of testing every pair. Idempotent, so older tables get theirs on their next load.
 */
export async function indexGeometries(
  client: pg.PoolClient,
  schemaName: string,
  table: string,
  fields: Field[],
) {
  for (const field of geometryFields(fields)) {
    const name = geometryIndexName(table, field);
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${qualified(schemaName, table)} USING gist (${quoteIdent(field.name)})`,
    );
  }
}

function normalizeType(type: string): string {
  return type
    .replace(/\s+/g, '')
    .toLowerCase()
    .replace('timestampwithtimezone', 'timestamptz')
    .replace('timewithouttimezone', 'time');
}
