import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { SetupError, run } from './process';
import { databaseUrl, defaultDatabaseUrl } from './settings';

/**
 * PostgreSQL with PostGIS, from DATABASE_URL or the local server: starts a stopped local
 * cluster, creates the database, installs PostGIS when it is missing and we may.
 */
export async function ensurePostgres(): Promise<string> {
  const url = databaseUrl();
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';

  let serverVersion: string;
  try {
    serverVersion = await query(maintenance.toString(), 'SHOW server_version_num');
  } catch (error) {
    if (!isLocal(target) || !(await startLocalCluster())) throw unreachable(url, error);
    serverVersion = await query(maintenance.toString(), 'SHOW server_version_num').catch((again: unknown) => {
      throw unreachable(url, again);
    });
  }
  const exists = await query(maintenance.toString(), 'SELECT count(*) FROM pg_database WHERE datname = $1', [
    database,
  ]);
  if (exists === '0') await query(maintenance.toString(), `CREATE DATABASE ${pg.escapeIdentifier(database)}`);

  const postgis = await query(url, "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'");
  if (postgis === '0') await installPostgis(Math.floor(Number(serverVersion) / 10000), isLocal(target));
  return url;
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const result = await client.query(sql, params);
    const row = result.rows[0] as Record<string, unknown> | undefined;
    return row ? String(Object.values(row)[0]) : '';
  } finally {
    await client.end();
  }
}

function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '::1', ''].includes(url.hostname);
}

function unreachable(url: string, error: unknown): SetupError {
  const shown = url.replace(/:[^:@/]+@/, ':***@');
  return new SetupError(
    `PostgreSQL is not reachable at ${shown}: ${error instanceof Error ? error.message : String(error)}`,
    url === defaultDatabaseUrl
      ? 'start PostgreSQL 13+ on 127.0.0.1:5432 (Debian: pg_ctlcluster 15 main start), or set DATABASE_URL'
      : 'check DATABASE_URL (host, port, user, password) and that the server accepts connections',
  );
}

/** Starts a Debian cluster that is installed but stopped (the usual state after a reboot). */
async function startLocalCluster(): Promise<boolean> {
  if (!existsSync('/etc/postgresql')) return false;
  const versions = readdirSync('/etc/postgresql').sort().reverse();
  for (const version of versions) {
    try {
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {
        timeoutMs: 60_000,
      });
      return true;
    } catch {
      // not startable by us (not root, or another cluster name)
    }
  }
  return false;
}

async function installPostgis(major: number, local: boolean): Promise<void> {
  const pkg = `postgresql-${major}-postgis-3`;
  const fix = local
    ? `install PostGIS: apt-get install ${pkg}`
    : 'install the PostGIS extension on the database server (or use a server that has it)';
  if (!local || process.getuid?.() !== 0) {
    throw new SetupError('the PostGIS extension is not available on the PostgreSQL server', fix);
  }
  try {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 5 * 60_000 });
    await run('apt-get', ['install', '-y', '-qq', pkg], {
      timeoutMs: 10 * 60_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    throw new SetupError(`installing ${pkg} failed: ${(error as Error).message}`, fix);
  }
}
