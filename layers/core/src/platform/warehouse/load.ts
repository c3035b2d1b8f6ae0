import { once } from 'node:events';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TerminalError } from '../errors/errors';
import { asList, type TableSchema } from '../table-schema';
import { loadColumnType } from './column-types';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from './copy-binary';
import {
  addPrimaryKey,
  createTableSql,
  ensureTable,
  geometryFields,
  geometryIndexName,
  indexGeometries,
  lineageColumns,
} from './ddl';
import { qualified, quoteIdent } from './sql';

export type LoadMode = 'replace' | 'append' | 'upsert';

export interface TableLoad {
  schemaName: string;
  table: string;
  tableSchema: TableSchema;
  mode: LoadMode;
  /**
   * The rows in COPY binary format (without the stream's header and trailer, added here):
   * the schema's fields in order, then the lineage columns _load_id, _source_key and
   * _row_number (FileValidation.copyRows writes them as it validates; copyRowsOf for rows
   * already in memory).
   */
  copyRows: AsyncIterable<Uint8Array>;
  /**
   * Called with each chunk of copyRows once PostgreSQL's connection has taken it (written to
   * the socket): its buffer may then be reused (see FileValidation.released).
   */
  released?: (chunk: Uint8Array) => void;
  /** How long a replace waits for readers before copying in place instead of swapping (default 5 s). */
  swapLockTimeoutMs?: number;
}

const STAGING = '_datacycle_staging';

/**
 * Streams rows with COPY and applies the load mode, inside the caller's transaction: nothing
 * is visible until it commits, and a failure anywhere leaves the previous data in place.
 * Replace and append COPY straight into the table; upsert, and tables with GeoJSON fields
 * (parsed by PostGIS), go through a temporary staging table.
 *
 * A replace builds the new snapshot in a fresh table, indexes it once filled and swaps it
 * in (see swappable): no index maintained row by row, no deleted copy of every old row.
 * (Filling a GiST index during the COPY would hide its build behind validation when
 * PostgreSQL has a core to spare, but costs it more work: 1M IRVE rows load in 23.4 s
 * that way on 2 shared cores, 20.7-21.9 s with the sorted build after.)
 */
export async function loadTable(client: pg.PoolClient, load: TableLoad): Promise<{ rowsLoaded: number }> {
  const { tableSchema } = load;
  // Schema evolution is checked against the live table, so a refused change stays refused.
  await ensureTable(client, load.schemaName, load.table, tableSchema);
  const live = qualified(load.schemaName, load.table);
  let swap = false;
  if (load.mode === 'replace') {
    const fresh = qualified(load.schemaName, freshName(load.table));
    await client.query(`DROP TABLE IF EXISTS ${fresh}`);
    await client.query(createTableSql(load.schemaName, freshName(load.table), tableSchema, false));
    swap = await swappable(client, live, fresh);
    if (!swap) await client.query(`DROP TABLE ${fresh}`);
  }
  const table = swap ? freshName(load.table) : load.table;
  const target = qualified(load.schemaName, table);
  const loaded = await fill(client, load, target, swap);
  if (swap) {
    // Key and indexes before the swap: the live table stays readable meanwhile. Statistics
    // are the transform pass's to gather, once for all the loads it takes in (see runTransform).
    await sortInMemory(client, loaded.rowsLoaded);
    await addPrimaryKey(client, load.schemaName, table, tableSchema).catch((error: unknown) => {
      const { code, detail } = error as { code?: string; detail?: string };
      if (code !== UNIQUE_VIOLATION) throw error;
      throw new TerminalError(
        `the rows repeat the primary key of ${load.schemaName}.${load.table}: ${detail ?? ''}`,
        'each row needs a key of its own: look for repeated keys in the file',
      );
    });
    await indexGeometries(client, load.schemaName, table, tableSchema.fields);
    await swapIn(client, load, table);
  }
  return loaded;
}

/**
 * Lets the key and indexes of a freshly filled table be sorted in memory, for this
 * transaction only: maintenance_work_mem raised to what its rows need (about 100 bytes each),
 * at most SORT_MEMORY_CAP, never lowered. PostgreSQL's default, 64 MB, held the sort of
 * 1M IRVE points (70 MB) on disk: the GiST build took 1.19 s instead of 1.10 (medians of 6
 * alternated builds).
 */
async function sortInMemory(client: pg.PoolClient, rows: number): Promise<void> {
  const wanted = Math.min(SORT_MEMORY_CAP_KB, Math.ceil((rows * 100) / 1024));
  const { rows: current } = await client.query<{ kb: string }>(
    "SELECT setting AS kb FROM pg_settings WHERE name = 'maintenance_work_mem'",
  );
  if (wanted > Number(current[0]?.kb ?? 0)) {
    await client.query(`SELECT set_config('maintenance_work_mem', $1, true)`, [`${wanted}kB`]);
  }
}

/** The most a load's sort is given (kB): a load runs beside the rest of the database's work. */
const SORT_MEMORY_CAP_KB = 256 * 1024;

async function fill(
  client: pg.PoolClient,
  load: TableLoad,
  target: string,
  fresh: boolean,
): Promise<{ rowsLoaded: number }> {
  const { tableSchema } = load;
  const lineage = ['_load_id', '_source_key', '_row_number'];
  const columns = [...tableSchema.fields.map((field) => quoteIdent(field.name)), ...lineage].join(', ');
  const direct = load.mode !== 'upsert' && !tableSchema.fields.some((field) => field.type === 'geojson');
  if (direct) {
    if (load.mode === 'replace' && !fresh) await client.query(`DELETE FROM ${target}`);
    // FREEZE (a table created in this transaction): rows are written already visible to
    // all, so no later pass rewrites every page to set hint bits or freeze them.
    const rowsLoaded = await copyRows(
      client,
      `COPY ${target} (${columns}) FROM STDIN WITH (FORMAT binary${fresh ? ', FREEZE' : ''})`,
      load.copyRows,
      load.released,
    );
    return { rowsLoaded };
  }

  // GeoJSON arrives as text; PostGIS parses it in the final INSERT.
  const stagingColumns = tableSchema.fields.map(
    (field) => `${quoteIdent(field.name)} ${loadColumnType(field)}`,
  );
  await client.query(`DROP TABLE IF EXISTS ${STAGING}`);
  await client.query(
    `CREATE TEMP TABLE ${STAGING} (${[...stagingColumns, '_load_id uuid NOT NULL', '_source_key text NOT NULL', '_row_number bigint NOT NULL'].join(', ')}) ON COMMIT DROP`,
  );
  await copyRows(
    client,
    `COPY ${STAGING} (${columns}) FROM STDIN WITH (FORMAT binary)`,
    load.copyRows,
    load.released,
  );

  const fieldNames = tableSchema.fields.map((field) => quoteIdent(field.name));
  const selected = tableSchema.fields.map((field) =>
    field.type === 'geojson'
      ? `ST_SetSRID(ST_GeomFromGeoJSON(${quoteIdent(field.name)}), 4326)`
      : quoteIdent(field.name),
  );
  const insert = `INSERT INTO ${target} (${columns})
    SELECT ${[...selected, ...lineage].join(', ')} FROM ${STAGING} ORDER BY _row_number`;

  if (load.mode === 'replace' && !fresh) await client.query(`DELETE FROM ${target}`);
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
  const result = await client.query(sql);
  return { rowsLoaded: result.rowCount ?? 0 };
}

/** Name of the table a replace fills before the swap (63 characters at most, as PostgreSQL's names). */
function freshName(table: string): string {
  const suffix = '__replacing';
  return table.slice(0, 63 - suffix.length) + suffix;
}

/**
 * The table can be replaced by the fresh one only when nothing refers to it by identity:
 * no view or rule reads it, no foreign key constraint points at it, it has no trigger, and
 * its privileges are those the fresh table got (the schema's default privileges, e.g. the
 * reader's; one granted by hand would stay with the old table). Otherwise the replace
 * deletes and copies in place, which keeps all of them.
 */
async function swappable(client: pg.PoolClient, live: string, fresh: string): Promise<boolean> {
  const { rows } = await client.query<{ referenced: boolean }>(
    `SELECT c.relacl IS DISTINCT FROM (SELECT f.relacl FROM pg_class f WHERE f.oid = $2::regclass)
         OR EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                     WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid AND r.ev_class <> c.oid)
         OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.confrelid = c.oid)
         OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS referenced
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [live, fresh],
  );
  return rows[0]?.referenced === false;
}

/**
 * Drops the live table and gives the filled one (keyed, indexed) its name and its
 * index names. Readers see the old snapshot until the commit. Dropping needs the table to
 * itself: if a long reader (a transform pass, an export) holds it past the lock timeout, the
 * new rows are copied into the live table instead, so that nobody queues behind the swap.
 */
async function swapIn(client: pg.PoolClient, load: TableLoad, filled: string): Promise<void> {
  const live = qualified(load.schemaName, load.table);
  const fresh = qualified(load.schemaName, filled);
  await client.query('SAVEPOINT datacycle_swap');
  await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${load.swapLockTimeoutMs ?? 5000}ms`]);
  try {
    await client.query(`DROP TABLE ${live}`);
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    await client.query('ROLLBACK TO SAVEPOINT datacycle_swap');
    const columns = [
      ...load.tableSchema.fields.map((field) => field.name),
      ...lineageColumns.map((c) => c.name),
    ]
      .map(quoteIdent)
      .join(', ');
    await client.query(`DELETE FROM ${live}`);
    await client.query(`INSERT INTO ${live} (${columns}) SELECT ${columns} FROM ${fresh}`);
    await client.query(`DROP TABLE ${fresh}`);
    return;
  }
  await client.query('SET LOCAL lock_timeout TO DEFAULT');
  await client.query('RELEASE SAVEPOINT datacycle_swap');
  await client.query(`ALTER TABLE ${fresh} RENAME TO ${quoteIdent(load.table)}`);
  const { rows } = await client.query<{ conname: string }>(
    `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
    [live],
  );
  const key = rows[0]?.conname;
  const keyName = `${load.table}_pkey`.slice(0, 63);
  if (key !== undefined && key !== keyName)
    await client.query(`ALTER TABLE ${live} RENAME CONSTRAINT ${quoteIdent(key)} TO ${quoteIdent(keyName)}`);
  for (const field of geometryFields(load.tableSchema.fields)) {
    await client.query(
      `ALTER INDEX ${qualified(load.schemaName, geometryIndexName(filled, field))} RENAME TO ${quoteIdent(geometryIndexName(load.table, field))}`,
    );
  }
}

/** SQLSTATE of a lock not obtained within lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
/** SQLSTATE of a unique index that finds a repeated key. */
const UNIQUE_VIOLATION = '23505';

/**
 * Streams COPY binary rows into PostgreSQL, between the format's header and trailer; returns
 * the number of rows it took. A chunk of rows is handed to `released` once the connection's
 * socket has written it out (test/integration/warehouse.test.ts overwrites each at once).
 */
async function copyRows(
  client: pg.PoolClient,
  sql: string,
  rows: AsyncIterable<Uint8Array>,
  released?: (chunk: Uint8Array) => void,
): Promise<number> {
  const copy = client.query(copyFrom(sql));
  const failed = new Promise<never>((_, reject) => copy.once('error', reject));
  failed.catch(() => undefined);
  const socket = released && socketOf(client);
  // The COPY stream calls back once the socket accepted the chunk: written out, or only
  // queued when it was small (under the socket's high-water mark). Handed back only when the
  // socket holds nothing unwritten; otherwise left to the garbage collector.
  const onWritten = (chunk: Uint8Array) =>
    socket === undefined ? undefined : () => socket.writableLength === 0 && released!(chunk);
  const write = async (chunk: Uint8Array, written?: () => void) => {
    if (!copy.write(chunk, written)) await Promise.race([once(copy, 'drain'), failed]);
  };
  try {
    await write(COPY_BINARY_HEADER);
    for await (const chunk of rows) if (chunk.byteLength > 0) await write(chunk, onWritten(chunk));
    await write(COPY_BINARY_TRAILER);
    copy.end();
    await Promise.race([finished(copy), failed]);
  } catch (error) {
    // As stream.pipeline would: the COPY is abandoned (CopyFail), then the error goes up.
    copy.destroy(error as Error);
    await finished(copy).catch(() => undefined);
    throw error;
  }
  return copy.rowCount;
}

/** The socket of a pg client's connection, where pg exposes it (it does not declare it). */
function socketOf(client: pg.PoolClient): Writable | undefined {
  const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  return stream instanceof Writable ? stream : undefined;
}
