import type pg from 'pg';
import { qualified, quoteIdent } from '../../platform/warehouse';

/**
 * The definitions a restore needs, read from the catalog (no pg_dump in a Lambda): tables
 * are created bare first, data is copied in, then constraints, indexes, views and sequence
 * positions follow (so foreign keys and unique indexes are checked once, on the full data).
 */
export interface SchemaDefinitions {
  /** CREATE SCHEMA / SEQUENCE / TABLE statements, run before the data. */
  before: string[];
  /** Constraints, indexes, sequence positions, run after the data. */
  after: string[];
  /** CREATE VIEW statements (a view may read another: restore retries until all exist). */
  views: string[];
  tables: { schema: string; table: string }[];
}

export async function readDefinitions(db: pg.PoolClient, schemas: string[]): Promise<SchemaDefinitions> {
  // Foreign keys last: the keys they point at must exist first, whatever the table order.
  const foreignKeys: string[] = [];
  const sequencePositions: string[] = [];
  const definitions: SchemaDefinitions = {
    before: schemas.map((schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`),
    after: [],
    views: [],
    tables: [],
  };
  const { rows: relations } = await db.query<{ oid: number; schema: string; name: string; kind: string }>(
    `SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'S') ORDER BY n.nspname, c.relname`,
    [schemas],
  );
  for (const sequence of relations.filter((relation) => relation.kind === 'S')) {
    const name = qualified(sequence.schema, sequence.name);
    const { rows } = await db.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value, is_called FROM ${name}`,
    );
    definitions.before.push(`CREATE SEQUENCE ${name}`);
    sequencePositions.push(`SELECT setval('${name}', ${Number(rows[0]!.last_value)}, ${rows[0]!.is_called})`);
  }
  for (const table of relations.filter((relation) => relation.kind === 'r')) {
    const name = qualified(table.schema, table.name);
    const { rows: columns } = await db.query<{
      name: string;
      type: string;
      not_null: boolean;
      fallback: string | null;
    }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              pg_get_expr(d.adbin, d.adrelid) AS fallback
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table.oid],
    );
    const body = columns.map(
      (column) =>
        `${quoteIdent(column.name)} ${column.type}${column.fallback ? ` DEFAULT ${column.fallback}` : ''}${column.not_null ? ' NOT NULL' : ''}`,
    );
    definitions.before.push(`CREATE TABLE ${name} (${body.join(', ')})`);
    definitions.tables.push({ schema: table.schema, table: table.name });
    const { rows: constraints } = await db.query<{ name: string; definition: string; foreign: boolean }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS definition, contype = 'f' AS foreign
       FROM pg_constraint WHERE conrelid = $1 ORDER BY conname`,
      [table.oid],
    );
    for (const constraint of constraints)
      (constraint.foreign ? foreignKeys : definitions.after).push(
        `ALTER TABLE ${name} ADD CONSTRAINT ${quoteIdent(constraint.name)} ${constraint.definition}`,
      );
    const { rows: indexes } = await db.query<{ definition: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
       WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      [table.oid],
    );
    for (const index of indexes) definitions.after.push(index.definition);
  }
  definitions.after.push(...foreignKeys, ...sequencePositions);
  for (const view of relations.filter((relation) => relation.kind === 'v')) {
    const { rows } = await db.query<{ definition: string }>(
      'SELECT pg_get_viewdef($1::oid, true) AS definition',
      [view.oid],
    );
    definitions.views.push(`CREATE VIEW ${qualified(view.schema, view.name)} AS ${rows[0]!.definition}`);
  }
  return definitions;
}
