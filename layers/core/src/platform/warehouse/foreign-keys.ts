import type pg from 'pg';
import { asList, type TableSchema } from '../table-schema';
import { qualified, quoteIdent } from './sql';

export interface ForeignKeyViolation {
  type: 'foreign-key';
  rowNumber: number;
  fieldName: string;
  cell: string;
  message: string;
}

/**
 * Checks the rows of one load against the schema's foreignKeys, in the load's transaction.
 * `resolveTable` maps a reference's resource ("" for the table itself, else a dataset id)
 * to the table that holds it. Returns the count and the first violations, located by row;
 * `remove` deletes the violating rows from the load.
 */
export async function findForeignKeyViolations(
  client: pg.PoolClient,
  load: { schemaName: string; table: string; tableSchema: TableSchema; loadId: string },
  resolveTable: (resource: string) => { schemaName: string; table: string },
  options: { keep?: number; remove?: boolean } = {},
): Promise<{ count: number; violations: ForeignKeyViolation[] }> {
  const keep = options.keep ?? 50;
  let count = 0;
  const violations: ForeignKeyViolation[] = [];
  for (const foreignKey of load.tableSchema.foreignKeys ?? []) {
    const fields = asList(foreignKey.fields);
    const referenced = asList(foreignKey.reference.fields);
    const resource = foreignKey.reference.resource;
    const target =
      resource === '' ? { schemaName: load.schemaName, table: load.table } : resolveTable(resource);
    const present = fields.map((field) => `t.${quoteIdent(field)} IS NOT NULL`).join(' AND ');
    const match = fields
      .map((field, i) => `r.${quoteIdent(referenced[i]!)} = t.${quoteIdent(field)}`)
      .join(' AND ');
    const from = `FROM ${qualified(load.schemaName, load.table)} t
       WHERE t._load_id = $1 AND ${present}
         AND NOT EXISTS (SELECT 1 FROM ${qualified(target.schemaName, target.table)} r WHERE ${match})`;
    const total = await client.query<{ count: string }>(`SELECT count(*) ${from}`, [load.loadId]);
    count += Number(total.rows[0]?.count ?? 0);
    const sample = await client.query<Record<string, unknown> & { _row_number: string }>(
      `SELECT t._row_number, ${fields.map((field) => `t.${quoteIdent(field)}::text`).join(', ')} ${from} ORDER BY t._row_number LIMIT ${keep}`,
      [load.loadId],
    );
    // With the load-valid policy the violating rows leave the load (they are reported).
    if (options.remove) {
      await client.query(
        `DELETE FROM ${qualified(load.schemaName, load.table)} d WHERE d.ctid IN (SELECT t.ctid ${from})`,
        [load.loadId],
      );
    }
    const reference = `${resource === '' ? 'this dataset' : resource} (${referenced.join(', ')})`;
    for (const row of sample.rows) {
      const values = fields.map((field) => String(row[field]));
      violations.push({
        type: 'foreign-key',
        rowNumber: Number(row._row_number),
        fieldName: fields.join(', '),
        cell: values.join(', '),
        message: `${fields.join(', ')} = ${values.join(', ')} is not in ${reference}`,
      });
    }
  }
  return { count, violations };
}
