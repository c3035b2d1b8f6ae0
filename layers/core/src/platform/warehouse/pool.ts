import pg from 'pg';
import { connectionTls, type TlsDefaults } from './tls';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions extends TlsDefaults {
  /** A password made for each new connection (an IAM authentication token). */
  password?: () => Promise<string>;
  /**
   * A role every connection enters at start (`SET ROLE`): the privileges of a datacycle role
   * for a login that holds more (see roles.ts).
   */
  role?: string;
}

/**
 * A small pool: a Lambda container handles one message batch at a time, so two connections
 * (one loading, one recording) are enough and keep PostgreSQL's connection count low. Its
 * connections are encrypted and the server verified unless the URL or `tls` says otherwise
 * (see connectionTls).
 */
export function createPool(connectionString: string, max = 2, options: PoolOptions = {}): pg.Pool {
  const secured = connectionTls(connectionString, options);
  const pool = new pg.Pool({
    connectionString: secured.connectionString,
    ssl: secured.ssl,
    ...(options.password ? { password: options.password } : {}),
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 60_000,
    application_name: 'datacycle',
    ...(options.role ? { options: `-c role=${options.role}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

const guarded = new WeakSet<pg.PoolClient>();

/**
 * A client of the pool for work of several statements. A connection cut while the client is
 * checked out (PostgreSQL restarting, a failover) fails the query in flight, and then makes the
 * client emit 'error', which would end the process without a listener: the pool only listens
 * to idle clients. Each client gets one listener, once; the pool drops it on release.
 */
export async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (!guarded.has(client)) {
    client.on('error', () => undefined);
    guarded.add(client);
  }
  return client;
}

/** Runs `work` in one transaction; rolls back on any error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await connect(pool);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
