import type pg from 'pg';
import { inTransaction } from '../../platform/warehouse';
import type { ApiRequest } from './http';
import type { ApiContext } from './router';
import { STATEMENT_TIMEOUT_MS } from './rows';

/** Reads, in one read-only transaction with a statement timeout. */
export function reading<T>(context: ApiContext, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(
    context.pool,
    async (client) => {
      await client.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
      return work(client);
    },
    'BEGIN READ ONLY',
  );
}

/**
 * One page of a keyset listing fetched with `limit + 1` rows: the page, its own link, and the
 * next page's link (the same query with the last row's keys as an opaque cursor) when there is one.
 */
export function keysetPage<T>(
  rows: T[],
  limit: number,
  request: ApiRequest,
  path: string,
  keysOf: (last: T) => string,
): { page: T[]; links: { self: string; next: string | null } } {
  const page = rows.slice(0, limit);
  const self = new URL(`${request.baseUrl}${path}`);
  for (const [key, value] of request.query) if (key !== 'cursor') self.searchParams.append(key, value);
  let next: string | null = null;
  if (rows.length > limit) {
    const url = new URL(self);
    url.searchParams.set('cursor', Buffer.from(keysOf(page[page.length - 1]!)).toString('base64url'));
    next = url.toString();
  }
  return { page, links: { self: self.toString(), next } };
}
