import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { z } from 'zod';
import { TerminalError } from '../../platform/errors/errors';
import { MeasuredStream, putJson, readObject, readObjectText } from '../../platform/storage';
import { assignRolesSql, inTransaction, qualified, ROLES_MIGRATION } from '../../platform/warehouse';
import { readDefinitions } from './ddl';

/** What a backup holds, written last: a backup without its manifest is incomplete. */
export const backupManifestSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  postgres: z.string(),
  schemas: z.array(z.string()),
  definitions: z.object({ key: z.string(), sha256: z.string() }),
  tables: z.array(
    z.object({
      schema: z.string(),
      table: z.string(),
      rows: z.number(),
      key: z.string(),
      bytes: z.number(),
      /** Of the object as stored (gzip). */
      sha256: z.string(),
      /** Of the rows themselves (see tableChecksum): what a restore must give back. */
      checksum: z.string(),
    }),
  ),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const BACKUP_SCHEMAS = ['raw', 'enriched', 'ops'];

/**
 * Backs up the platform's schemas into `s3://<bucket>/<prefix>`: their definitions
 * (definitions.json), each table as gzip-compressed CSV streamed from COPY (bounded memory),
 * and manifest.json with row counts and checksums. Read in one repeatable-read transaction:
 * every table as of the same instant.
 */
export async function backupDatabase(
  pool: pg.Pool,
  s3: S3Client,
  target: { bucket: string; prefix: string },
  schemas = BACKUP_SCHEMAS,
): Promise<BackupManifest> {
  const read = await inTransaction(
    pool,
    async (client) => {
      await client.query("SET LOCAL TimeZone = 'UTC'");
      const { rows: version } = await client.query<{ v: string }>(
        "SELECT current_setting('server_version') AS v",
      );
      const definitions = await readDefinitions(client, schemas);
      const definitionsKey = `${target.prefix}definitions.json`;
      const definitionsText = JSON.stringify(definitions, null, 2);
      await putJson(s3, { bucket: target.bucket, key: definitionsKey }, definitions);
      const tables: BackupManifest['tables'] = [];
      for (const { schema, table } of definitions.tables) {
        const key = `${target.prefix}data/${schema}.${table}.csv.gz`;
        const measured = new MeasuredStream();
        const body = new PassThrough();
        const upload = new Upload({
          client: s3,
          params: { Bucket: target.bucket, Key: key, Body: body },
        }).done();
        const copy = client.query(copyTo(`COPY ${qualified(schema, table)} TO STDOUT (FORMAT csv)`));
        await Promise.all([pipeline(copy, createGzip(), measured, body), upload]);
        const { rows, checksum } = await tableChecksum(client, schema, table);
        tables.push({ schema, table, rows, checksum, key, bytes: measured.bytes, sha256: measured.sha256() });
      }
      return { version: version[0]!.v, definitionsText, definitionsKey, tables };
    },
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  );
  const manifest: BackupManifest = {
    version: 1,
    createdAt: new Date().toISOString(),
    postgres: read.version,
    schemas,
    definitions: {
      key: read.definitionsKey,
      sha256: createHash('sha256').update(read.definitionsText).digest('hex'),
    },
    tables: read.tables,
  };
  await putJson(s3, { bucket: target.bucket, key: `${target.prefix}manifest.json` }, manifest);
  return manifest;
}

/**
 * Row count and an order-independent checksum of a table's rows (md5 of the sorted md5 of
 * each row's text), the same wherever the rows are, as long as the time zone is the same.
 */
export async function tableChecksum(
  db: pg.PoolClient,
  schema: string,
  table: string,
): Promise<{ rows: number; checksum: string }> {
  const { rows } = await db.query<{ n: string; checksum: string | null }>(
    `SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS checksum
     FROM (SELECT md5(t::text) AS h FROM ${qualified(schema, table)} AS t) AS hashed`,
  );
  return { rows: Number(rows[0]!.n), checksum: rows[0]!.checksum ?? '' };
}

async function readJsonObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ text: string; value: unknown }> {
  const text = await readObjectText(s3, { bucket, key });
  return { text, value: JSON.parse(text) };
}

/**
 * Restores a backup into a database whose platform schemas are empty, in one transaction:
 * definitions, data (each file's checksum verified as it streams), then constraints, indexes,
 * views and sequence positions. Refuses a database that already holds tables there.
 */
export async function restoreDatabase(
  pool: pg.Pool,
  s3: S3Client,
  source: { bucket: string; prefix: string },
): Promise<BackupManifest> {
  const manifest = backupManifestSchema.parse(
    (await readJsonObject(s3, source.bucket, `${source.prefix}manifest.json`)).value,
  );
  const definitionsFile = await readJsonObject(s3, source.bucket, manifest.definitions.key);
  if (createHash('sha256').update(definitionsFile.text).digest('hex') !== manifest.definitions.sha256) {
    throw new TerminalError(`${manifest.definitions.key} does not match its checksum in the manifest`);
  }
  const definitions = definitionsFile.value as Awaited<ReturnType<typeof readDefinitions>>;
  return inTransaction(pool, async (client) => {
    const { rows: existing } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v') LIMIT 5`,
      [manifest.schemas],
    );
    if (existing.length > 0) {
      throw new TerminalError(
        `the target database is not empty: ${existing.map((row) => row.name).join(', ')}…`,
        'restore into a new, empty database (createdb <name>), then point DATABASE_URL at it',
      );
    }
    await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
    for (const statement of definitions.before) await client.query(statement);
    for (const table of manifest.tables) {
      const measured = new MeasuredStream();
      const copy = client.query(
        copyFrom(`COPY ${qualified(table.schema, table.table)} FROM STDIN (FORMAT csv)`),
      );
      const object: Readable = await readObject(s3, { bucket: source.bucket, key: table.key });
      await pipeline(object, measured, createGunzip(), copy);
      if (measured.sha256() !== table.sha256) {
        throw new TerminalError(
          `${table.key} does not match its checksum in the manifest: the backup is damaged`,
        );
      }
    }
    for (const statement of definitions.after) await client.query(statement);
    let pending = definitions.views;
    while (pending.length > 0) {
      const failed: string[] = [];
      for (const view of pending) {
        await client.query('SAVEPOINT view');
        try {
          await client.query(view);
          await client.query('RELEASE SAVEPOINT view');
        } catch {
          await client.query('ROLLBACK TO SAVEPOINT view');
          failed.push(view);
        }
      }
      if (failed.length === pending.length) await client.query(failed[0]!); // throws with the reason
      pending = failed;
    }
    await client.query("SET LOCAL TimeZone = 'UTC'");
    for (const table of manifest.tables) {
      const restored = await tableChecksum(client, table.schema, table.table);
      if (restored.rows !== table.rows || restored.checksum !== table.checksum) {
        throw new TerminalError(
          `${table.schema}.${table.table} restored ${restored.rows} rows (checksum ${restored.checksum}), the backup holds ${table.rows} (${table.checksum})`,
        );
      }
    }
    // Restored objects belong to the restoring login: hand raw and enriched back to the loader
    // and re-grant the roles, as the migration that introduced them did.
    if (manifest.tables.some((table) => table.schema === 'ops' && table.table === 'schema_migrations')) {
      const { rows: schema } = await client.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM ops.schema_migrations',
      );
      if ((schema[0]?.version ?? 0) >= ROLES_MIGRATION) await client.query(assignRolesSql);
    }
    return manifest;
  });
}
