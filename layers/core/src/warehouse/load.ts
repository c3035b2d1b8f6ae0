import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TerminalError } from '../errors';
import { asList, type TableSchema } from '../table-schema';
import { copyTextFields } from './copy-text';
import { columnType, ensureTable } from './ddl';
import { qualified, quoteIdent } from './sql';

export type LoadMode = 'replace' | 'append' | 'upsert';

export interface TableLoad {
  schemaName: string;
  table: string;
  tableSchema: TableSchema;
  mode: LoadMode;
  loadId: string;
  sourceKey: string;
  /** Batches of valid rows (see FileValidation.validBatches). */
  batches: AsyncIterable<ValidRow[]>;
}

export interface ValidRow {
  rowNumber: number;
  /** Normalized values in schema field order (see RowValidator). */
  values: (string | null)[];
}

const STAGING = '_datacycle_staging';

/**
 * Streams rows with COPY and applies the load mode, inside the caller's transaction: nothing
 * is visible until it commits, and a failure anywhere leaves the previous data in place.
 * Replace and append COPY straight into the table; upsert, and tables with GeoJSON fields
 * (parsed by PostGIS), go through a temporary staging table.
 */
export async function loadTable(client: pg.PoolClient, load: TableLoad): Promise<{ rowsLoaded: number }> {
  const { tableSchema } = load;
  await ensureTable(client, load.schemaName, load.table, tableSchema);
  const target = qualified(load.schemaName, load.table);
  const direct = load.mode !== 'upsert' && !tableSchema.fields.some((field) => field.type === 'geojson');
  if (direct) {
    if (load.mode === 'replace') await client.query(`DELETE FROM ${target}`);
    const columns = [
      ...tableSchema.fields.map((field) => quoteIdent(field.name)),
      '_load_id',
      '_source_key',
      '_row_number',
    ];
    const rowsLoaded = await copyRows(
      client,
      `COPY ${target} (${columns.join(', ')}) FROM STDIN`,
      load.batches,
      [load.loadId, load.sourceKey],
    );
    return { rowsLoaded };
  }

  // GeoJSON arrives as text; PostGIS parses it in the final INSERT.
  const stagingColumns = tableSchema.fields.map(
    (field) => `${quoteIdent(field.name)} ${field.type === 'geojson' ? 'text' : columnType(field)}`,
  );
  await client.query(`DROP TABLE IF EXISTS ${STAGING}`);
  await client.query(
    `CREATE TEMP TABLE ${STAGING} (${[...stagingColumns, '_row_number bigint NOT NULL'].join(', ')}) ON COMMIT DROP`,
  );
  const columnList = [...tableSchema.fields.map((field) => quoteIdent(field.name)), '_row_number'].join(', ');
  await copyRows(client, `COPY ${STAGING} (${columnList}) FROM STDIN`, load.batches, []);

  const fieldNames = tableSchema.fields.map((field) => quoteIdent(field.name));
  const selected = tableSchema.fields.map((field) =>
    field.type === 'geojson'
      ? `ST_SetSRID(ST_GeomFromGeoJSON(${quoteIdent(field.name)}), 4326)`
      : quoteIdent(field.name),
  );
  const insert = `INSERT INTO ${target} (${[...fieldNames, '_load_id', '_source_key', '_row_number'].join(', ')})
    SELECT ${[...selected, '$1::uuid', '$2::text', '_row_number'].join(', ')} FROM ${STAGING} ORDER BY _row_number`;

  if (load.mode === 'replace') await client.query(`DELETE FROM ${target}`);
  let sql = insert;
  if (load.mode === 'upsert') {
    const key = asList(tableSchema.primaryKey);
    if (key.length === 0) {
      throw new TerminalError(
        `load mode "upsert" needs a primaryKey in the Table Schema of ${load.table}`,
        'declare primaryKey in the schema, or use load mode replace or append',
      );
    }
    const updates = [...fieldNames, '_load_id', '_source_key', '_row_number', '_loaded_at'].map((name) =>
      name === '_loaded_at' ? '_loaded_at = now()' : `${name} = EXCLUDED.${name}`,
    );
    sql += ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
  }
  const result = await client.query(sql, [load.loadId, load.sourceKey]);
  return { rowsLoaded: result.rowCount ?? 0 };
}

/**
 * COPY rows in the text format, a batch of rows per message: each row's values, then the
 * same `constants` on every row (lineage), then its row number.
 */
async function copyRows(
  client: pg.PoolClient,
  sql: string,
  batches: AsyncIterable<ValidRow[]>,
  constants: readonly string[],
): Promise<number> {
  let count = 0;
  const between = constants.length > 0 ? `\t${copyTextFields(constants)}\t` : '\t';
  async function* encoded() {
    for await (const batch of batches) {
      let text = '';
      for (const row of batch) text += copyTextFields(row.values) + between + row.rowNumber + '\n';
      count += batch.length;
      yield text;
    }
  }
  await pipeline(Readable.from(encoded()), client.query(copyFrom(sql)));
  return count;
}
