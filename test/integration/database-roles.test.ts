/**
 * The database roles on a real PostgreSQL (a database of its own): what each may and may not do,
 * tables that existed before the roles handed over to the loader, and the privileges of what
 * the loader creates later. The functions enter their role the way the local cloud's do (a
 * `role` startup option on the pool); a managed database logs them in as the role instead, with
 * the same privileges (the login path is in database-tls.test.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignRolesSql,
  copyRowsOf,
  createPool,
  inTransaction,
  loadTable,
  tableSchemaSchema,
  DATABASE_ROLES,
  migrate,
  migrations,
  ROLES_MIGRATION,
  type DatabaseRole,
  type Pool,
} from '@datacycle/core';
import { databaseUrl, testPool } from '../helpers/local-cloud';

const name = 'datacycle_roles_test';
const admin = testPool();
let owner: Pool;
const pools: Pool[] = [];

function as(role: DatabaseRole): Pool {
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 1, { role: DATABASE_ROLES[role] });
  pools.push(pool);
  return pool;
}

const denied = expect.objectContaining({ code: '42501' }); // insufficient_privilege

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  owner = createPool(url.toString(), 2);
  // A database of before the roles: tables and a view the owner created, then the migration.
  await migrate(
    owner,
    migrations.filter((migration) => migration.version < ROLES_MIGRATION),
  );
  await owner.query(`CREATE TABLE raw.legacy (id integer PRIMARY KEY, label text);
    INSERT INTO raw.legacy VALUES (1, 'before the roles');
    CREATE VIEW enriched.legacy_view AS SELECT id FROM raw.legacy`);
  await migrate(owner);
}, 60_000);

afterAll(async () => {
  for (const pool of [...pools, owner]) await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('database roles', () => {
  it('hands the tables and views of raw and enriched that existed before to the loader', async () => {
    const { rows } = await owner.query<{ name: string; owner: string }>(
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname IN ('raw', 'enriched') AND c.relkind IN ('r', 'v') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { name: 'legacy', owner: 'datacycle_loader' },
      { name: 'legacy_view', owner: 'datacycle_loader' },
    ]);
  });

  it('loader: rebuilds raw and enriched (create, swap, drop), writes ops, changes no platform table', async () => {
    const loader = as('loader');
    await loader.query(`CREATE TABLE raw.stations (id integer, geom geometry(Point, 4326));
      INSERT INTO raw.stations VALUES (1, ST_SetSRID(ST_MakePoint(2.35, 48.85), 4326))`);
    await loader.query(`CREATE TABLE enriched.cities__building AS SELECT 1 AS id;
      DROP VIEW enriched.legacy_view; ALTER TABLE enriched.cities__building RENAME TO cities`);
    await loader.query('DROP TABLE raw.legacy'); // made by the owner before the roles
    await loader.query(
      "INSERT INTO ops.runs (id, trigger, status) VALUES (gen_random_uuid(), 'test', 'running')",
    );
    await loader.query("UPDATE ops.runs SET status = 'succeeded' WHERE trigger = 'test'");
    // A serial id: the loader uses the sequences of ops.
    await loader.query(
      `INSERT INTO ops.files (run_id, dataset, source_bucket, source_key, sha256, size_bytes, status)
       SELECT id, 'stations', 'landing', 'stations/a.csv', 'abc', 1, 'loaded' FROM ops.runs WHERE trigger = 'test'`,
    );
    await expect(loader.query('ALTER TABLE ops.runs ADD COLUMN extra text')).rejects.toEqual(
      expect.objectContaining({ message: expect.stringMatching(/must be owner/) }),
    );
    await expect(loader.query('CREATE SCHEMA elsewhere')).rejects.toEqual(denied);
    await expect(loader.query('DROP TABLE ops.schema_migrations')).rejects.toEqual(
      expect.objectContaining({ message: expect.stringMatching(/must be owner/) }),
    );
    expect((await loader.query('SELECT current_user AS name')).rows[0]).toEqual({ name: 'datacycle_loader' });
  });

  it('reader: reads raw, enriched and ops, including what the loader creates later; writes nothing', async () => {
    const loader = as('loader');
    await loader.query('CREATE TABLE raw.later AS SELECT 42 AS answer');
    const reader = as('reader');
    expect((await reader.query('SELECT answer FROM raw.later')).rows).toEqual([{ answer: 42 }]);
    expect((await reader.query('SELECT count(*)::int AS n FROM enriched.cities')).rows).toEqual([{ n: 1 }]);
    expect(
      (await reader.query("SELECT count(*)::int AS n FROM ops.runs WHERE trigger = 'test'")).rows,
    ).toEqual([{ n: 1 }]);
    await expect(reader.query('INSERT INTO raw.later VALUES (1)')).rejects.toEqual(denied);
    await expect(reader.query("DELETE FROM ops.runs WHERE trigger = 'test'")).rejects.toEqual(denied);
    await expect(reader.query('CREATE TABLE raw.mine (id integer)')).rejects.toEqual(denied);
    await expect(
      reader.query(
        "INSERT INTO ops.subscriptions (id, origin, url, event_types, secret_id) VALUES ('s', 'api', 'https://x', '{}', 'x')",
      ),
    ).rejects.toEqual(denied);
  });

  it('api: the reader, plus managing webhook subscriptions and replaying deliveries, nothing else', async () => {
    const api = as('api');
    await api.query(
      "INSERT INTO ops.subscriptions (id, origin, url, event_types, secret_id) VALUES ('s1', 'api', 'https://example.org/hook', '{dataset.updated}', 'x')",
    );
    await api.query("UPDATE ops.subscriptions SET enabled = false WHERE id = 's1'");
    // Replaying a subscription's failed deliveries.
    await api.query("UPDATE ops.deliveries SET status = 'pending' WHERE subscription_id = 's1'");
    await expect(api.query("DELETE FROM ops.deliveries WHERE subscription_id = 's1'")).rejects.toEqual(
      denied,
    );
    await api.query("DELETE FROM ops.subscriptions WHERE id = 's1'");
    expect((await api.query('SELECT answer FROM raw.later')).rows).toEqual([{ answer: 42 }]);
    await expect(
      api.query("INSERT INTO ops.runs (id, trigger, status) VALUES (gen_random_uuid(), 'api', 'running')"),
    ).rejects.toEqual(denied);
    await expect(api.query('DELETE FROM raw.later')).rejects.toEqual(denied);
  });

  it("the loader's replace swaps a table the reader may read, and copies in place past a hand-made grant", async () => {
    const loader = as('loader');
    const schema = tableSchemaSchema.parse({ fields: [{ name: 'code', type: 'string' }] });
    const replace = (code: string) =>
      inTransaction(loader, (client) =>
        loadTable(client, {
          schemaName: 'raw',
          table: 'swapped',
          tableSchema: schema,
          mode: 'replace',
          copyRows: copyRowsOf(
            (async function* () {
              yield [{ rowNumber: 2, values: [code] }];
            })(),
            schema.fields,
            { loadId: crypto.randomUUID(), sourceKey: 'swapped.csv' },
          ),
        }),
      );
    const oid = async () =>
      (await owner.query<{ oid: number }>("SELECT 'raw.swapped'::regclass::oid::int AS oid")).rows[0]!.oid;
    await replace('a');
    const first = await oid();
    // The reader's privilege comes with every table the loader makes: a swap keeps it.
    await replace('b');
    expect(await oid()).not.toBe(first);
    expect((await as('reader').query('SELECT code FROM raw.swapped')).rows).toEqual([{ code: 'b' }]);
    // A privilege granted by hand would stay with the old table: the rows are copied in place.
    await owner.query('GRANT SELECT ON raw.swapped TO datacycle_api');
    const granted = await oid();
    await replace('c');
    expect(await oid()).toBe(granted);
    expect((await as('reader').query('SELECT code FROM raw.swapped')).rows).toEqual([{ code: 'c' }]);
  });

  it('re-asserting the roles (a restore, a second run) changes nothing and fails nothing', async () => {
    await owner.query(assignRolesSql);
    await owner.query(assignRolesSql);
    const reader = as('reader');
    expect((await reader.query('SELECT answer FROM raw.later')).rows).toEqual([{ answer: 42 }]);
  });

  it('a login that lacks the role cannot enter it', async () => {
    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      await client.query('DROP ROLE IF EXISTS datacycle_stranger');
      await client.query('CREATE ROLE datacycle_stranger LOGIN');
    } finally {
      await client.end();
    }
    const url = new URL(databaseUrl());
    url.pathname = `/${name}`;
    url.username = 'datacycle_stranger';
    const stranger = createPool(url.toString(), 1, { role: DATABASE_ROLES.loader });
    try {
      await expect(stranger.query('SELECT 1')).rejects.toThrow(/permission denied to set role/);
    } finally {
      await stranger.end();
      await admin.query('DROP ROLE datacycle_stranger');
    }
  });
});
