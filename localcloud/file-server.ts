import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import path from 'node:path';

/**
 * A small portal on loopback, the demo's "remote" sources: file downloads with ETag and
 * Last-Modified (304 on a matching conditional GET), and an OpenDataSoft Explore v2.1-like
 * records endpoint over each CSV (`offset`, `limit` up to 100, `where: "<field> > '<value>'"`).
 */
export function serveFiles(root: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const records = /^\/api\/explore\/v2\.1\/catalog\/datasets\/([\w-]+)\/records$/.exec(url.pathname);
    if (records) {
      serveRecords(path.join(root, `${records[1]}.csv`), url.searchParams, res);
      return;
    }
    const name = path.basename(decodeURIComponent(url.pathname));
    const file = path.join(root, name);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const etag = `"${createHash('sha1').update(`${stat.size}-${stat.mtimeMs}`).digest('hex')}"`;
    const lastModified = stat.mtime.toUTCString();
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'last-modified': lastModified }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream',
      'content-length': stat.size,
      etag,
      'last-modified': lastModified,
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use (needed by the demo's file server)`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function serveRecords(file: string, params: URLSearchParams, res: ServerResponse): void {
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  } catch {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'unknown dataset' }));
    return;
  }
  const where = /^(\w+) > '(.*)'$/.exec(params.get('where') ?? '');
  const selected = where ? rows.filter((row) => (row[where[1]!] ?? '') > where[2]!) : rows;
  const offset = Number(params.get('offset') ?? 0);
  const limit = Math.min(100, Number(params.get('limit') ?? 10));
  // Empty cells are null in the API, as on a real portal.
  const results = selected
    .slice(offset, offset + limit)
    .map((row) =>
      Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === '' ? null : value])),
    );
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ total_count: selected.length, results }));
}
