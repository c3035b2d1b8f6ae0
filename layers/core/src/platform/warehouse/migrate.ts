import type pg from 'pg';
import { migrations as platformMigrations, type Migration } from './migrations';
import { connect } from './pool';

/** Arbitrary but fixed: serializes concurrent `migrate` runs across processes. */
const MIGRATION_LOCK = 7_340_001;

export interface MigrationOutcome {
  applied: Migration[];
  current: number;
}

/** Applies pending migrations in order, each in its own transaction. A deploy step. */
export async function migrate(
  pool: pg.Pool,
  migrations: Migration[] = platformMigrations,
): Promise<MigrationOutcome> {
  const client = await connect(pool);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS ops;
      CREATE TABLE IF NOT EXISTS ops.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM ops.schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    const applied: Migration[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO ops.schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(
          `migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      applied.push(migration);
    }
    const current = requiredSchemaVersion(migrations);
    return { applied, current };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/** The schema version this build of datacycle needs: its newest migration. */
export const requiredSchemaVersion = (migrations: Migration[] = platformMigrations): number =>
  Math.max(0, ...migrations.map((migration) => migration.version));

/** The database is older than the code that uses it: the deploy's migration has not run. */
export class SchemaBehindError extends Error {
  constructor(
    readonly current: number,
    readonly required: number,
  ) {
    super(
      `the database schema is at version ${current}, this datacycle needs ${required}: the deploy's ` +
        'migration (the Migrations resource of the stack) has not run or failed; see its log, or run ' +
        'datacycle migrate against this database',
    );
    this.name = 'SchemaBehindError';
  }
}

/**
 * Checks, once per process, that the database has every migration this code needs (a newer
 * one is fine: the database may be ahead during a deploy). Throws SchemaBehindError if not.
 */
export async function checkSchemaVersion(
  pool: pg.Pool,
  migrations: Migration[] = platformMigrations,
): Promise<number> {
  const required = requiredSchemaVersion(migrations);
  const { rows: table } = await pool.query<{ exists: boolean }>(
    "SELECT to_regclass('ops.schema_migrations') IS NOT NULL AS exists",
  );
  let current = 0;
  if (table[0]?.exists) {
    const { rows } = await pool.query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::int AS version FROM ops.schema_migrations',
    );
    current = rows[0]?.version ?? 0;
  }
  if (current < required) throw new SchemaBehindError(current, required);
  return current;
}
