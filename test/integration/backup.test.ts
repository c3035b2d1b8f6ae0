/**
 * Backup and restore round trip on real PostgreSQL and LocalStack S3: the platform's schemas
 * of the test database go to a bucket, come back into a new, empty database, with the same
 * rows (counts and checksums, table by table), constraints, indexes, views and sequences.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupDatabase,
  createPool,
  migrate,
  restoreDatabase,
  tableChecksum,
  zoneKeys,
} from '@datacycle/core';
import { databaseUrl, localS3, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets } from '../helpers/projects';

const s3 = localS3();
const pool = testPool();
const restoredName = uniqueName('restore').replace(/-/g, '_');
const restoredUrl = databaseUrl().replace(/\/[^/?]+(\?|$)/, `/${restoredName}$1`);
let restored: pg.Pool;
let bucket: string;
const suffix = uniqueName('b').replace(/-/g, '_');

beforeAll(async () => {
  await migrate(pool);
  bucket = (await createTestBuckets(s3, uniqueName('bk'))).internal;
  // Something of each kind the restore must rebuild: geometry, constraint, index, view.
  await pool.query(`
    CREATE TABLE raw.places_${suffix} (code text PRIMARY KEY, label text NOT NULL, at geometry(Point, 4326),
                                       note text DEFAULT 'none', CHECK (length(code) = 2));
    CREATE INDEX ON raw.places_${suffix} (label);
    INSERT INTO raw.places_${suffix} VALUES ('45', 'Loiret', 'SRID=4326;POINT(1.9 47.9)', 'a "quoted", multi
line note'), ('2A', 'Corse-du-Sud', NULL, DEFAULT);
    CREATE VIEW enriched.places_${suffix} AS SELECT code, upper(label) AS label FROM raw.places_${suffix};
    CREATE TABLE enriched.place_counts_${suffix} AS SELECT count(*)::int AS places FROM raw.places_${suffix};`);
  await pool.query(`CREATE DATABASE ${restoredName}`);
  restored = createPool(restoredUrl);
});
afterAll(async () => {
  await restored.end();
  await pool.query(`DROP DATABASE IF EXISTS ${restoredName}`);
  await pool.query(
    `DROP VIEW IF EXISTS enriched.places_${suffix}; DROP TABLE IF EXISTS enriched.place_counts_${suffix};
     DROP TABLE IF EXISTS raw.places_${suffix}`,
  );
  await pool.end();
});

describe('backup and restore', () => {
  it('round-trips the raw, enriched and ops schemas into an empty database', async () => {
    const prefix = zoneKeys.backup(new Date());
    const manifest = await backupDatabase(pool, s3, { bucket, prefix });

    expect(manifest.tables.map((t) => `${t.schema}.${t.table}`)).toEqual(
      expect.arrayContaining([`raw.places_${suffix}`, 'ops.runs', 'ops.files', 'ops.schema_migrations']),
    );
    const places = manifest.tables.find((t) => t.table === `places_${suffix}`)!;
    expect(places).toMatchObject({ rows: 2, key: `${prefix}data/raw.places_${suffix}.csv.gz` });

    await restoreDatabase(restored, s3, { bucket, prefix });

    // Every table: same rows, by count and checksum, computed independently on both sides.
    const client = await restored.connect();
    try {
      await client.query("SET TimeZone = 'UTC'");
      for (const table of manifest.tables) {
        expect(
          await tableChecksum(client, table.schema, table.table),
          `${table.schema}.${table.table}`,
        ).toEqual({
          rows: table.rows,
          checksum: table.checksum,
        });
      }
    } finally {
      client.release();
    }
    const { rows } = await restored.query(
      `SELECT code, ST_AsText(at) AS at, note FROM raw.places_${suffix} ORDER BY code`,
    );
    expect(rows).toEqual([
      { code: '2A', at: null, note: 'none' },
      { code: '45', at: 'POINT(1.9 47.9)', note: 'a "quoted", multi\nline note' },
    ]);
    expect((await restored.query(`SELECT label FROM enriched.places_${suffix} ORDER BY 1`)).rows).toEqual([
      { label: 'CORSE-DU-SUD' },
      { label: 'LOIRET' },
    ]);
    await expect(restored.query(`INSERT INTO raw.places_${suffix} VALUES ('456', 'x')`)).rejects.toThrow(
      /check/,
    );
    // The sequence goes on where it was: a new id does not collide with restored ones.
    const { rows: max } = await restored.query('SELECT coalesce(max(id), 0)::int AS id FROM ops.alerts');
    const { rows: ids } = await restored.query(
      `INSERT INTO ops.alerts (kind, severity, title, message) VALUES ('run-failed', 'error', 't', 'm') RETURNING id::int`,
    );
    expect(ids[0].id).toBeGreaterThan(max[0].id);
    // And the restored database is a datacycle database: no migration left to apply.
    expect((await migrate(restored)).applied).toEqual([]);
  });

  it('refuses a non-empty database, and a damaged backup', async () => {
    const prefix = zoneKeys.backup(new Date(Date.now() + 1000));
    await backupDatabase(pool, s3, { bucket, prefix }, ['enriched']);
    await expect(restoreDatabase(restored, s3, { bucket, prefix })).rejects.toThrow(
      /the target database is not empty/,
    );

    const manifestKey = `${prefix}manifest.json`;
    const manifest = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey }))
      ).Body!.transformToString(),
    );
    // A table of this test's own (enriched holds others only once the pipeline has published).
    const first = manifest.tables.find((t: { table: string }) => t.table === `place_counts_${suffix}`);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: first.key, Body: Buffer.from([0x1f, 0x8b, 1, 2, 3]) }),
    );
    const empty = uniqueName('empty').replace(/-/g, '_');
    await pool.query(`CREATE DATABASE ${empty}`);
    const target = createPool(restoredUrl.replace(restoredName, empty));
    try {
      await expect(restoreDatabase(target, s3, { bucket, prefix })).rejects.toThrow();
      // Nothing half-restored: the transaction rolled back.
      const { rows } = await target.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'enriched'",
      );
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await target.end();
      await pool.query(`DROP DATABASE ${empty}`);
    }
  });
});
