import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import path from 'node:path';

/** A dataset of the portal's udata-like catalog: its resources are files of the portal. */
export interface UdataDataset {
  title: string;
  resources: { title: string; format: string; file: string }[];
}

/**
 * A small portal on loopback, the demo's "remote" sources, speaking like the real ones:
 *   - file downloads with ETag and Last-Modified (304 on a matching conditional GET);
 *   - an OpenDataSoft Explore v2.1-like records endpoint over each CSV (`offset`, `limit` up
 *     to 100, `where: "<field> > '<value>'"`);
 *   - a udata-like API (`/api/1/datasets/<id>/`) over the datasets given;
 *   - an OGC WFS 2.0-like GetFeature (`/wfs`, GeoJSON, `startIndex`/`count` paging) over each
 *     `<name>.geojson` file, typeName `<namespace>:<name>`.
 */
export function serveFiles(
  root: string,
  port: number,
  udata: Record<string, UdataDataset> = {},
): Promise<Server> {
  const base = `http://127.0.0.1:${port}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const records = /^\/api\/explore\/v2\.1\/catalog\/datasets\/([\w-]+)\/records$/.exec(url.pathname);
    if (records) {
      serveRecords(path.join(root, `${records[1]}.csv`), url.searchParams, res);
      return;
    }
    const dataset = /^\/api\/1\/datasets\/([\w-]+)\/?$/.exec(url.pathname);
    if (dataset) {
      serveUdataDataset(root, base, dataset[1]!, udata[dataset[1]!], res);
      return;
    }
    if (url.pathname === '/wfs') {
      serveWfs(root, url.searchParams, res);
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
    sendJson(res, 404, { error: 'unknown dataset' });
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
  sendJson(res, 200, { total_count: selected.length, results });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function serveUdataDataset(
  root: string,
  base: string,
  id: string,
  dataset: UdataDataset | undefined,
  res: ServerResponse,
): void {
  if (!dataset) {
    sendJson(res, 404, { message: 'Not found' });
    return;
  }
  sendJson(res, 200, {
    id,
    title: dataset.title,
    resources: dataset.resources.map((resource) => ({
      title: resource.title,
      format: resource.format,
      url: `${base}/${resource.file}`,
      last_modified: statSync(path.join(root, resource.file)).mtime.toISOString(),
    })),
  });
}

function serveWfs(root: string, params: URLSearchParams, res: ServerResponse): void {
  const get = (name: string) => params.get(name) ?? params.get(name.toLowerCase()) ?? undefined;
  if (get('request') !== 'GetFeature' || get('outputFormat') !== 'application/json') {
    res
      .writeHead(400, { 'content-type': 'application/xml' })
      .end('<ExceptionReport>only GetFeature as JSON</ExceptionReport>');
    return;
  }
  const typeName = get('typeNames') ?? '';
  let features: unknown[];
  try {
    const name = typeName.split(':').pop() ?? '';
    features = (
      JSON.parse(readFileSync(path.join(root, `${path.basename(name)}.geojson`), 'utf8')) as {
        features: unknown[];
      }
    ).features;
  } catch {
    res
      .writeHead(400, { 'content-type': 'application/xml' })
      .end(`<ExceptionReport>unknown typeName ${typeName}</ExceptionReport>`);
    return;
  }
  const start = Number(get('startIndex') ?? 0);
  const count = Number(get('count') ?? features.length);
  const page = features.slice(start, start + count);
  sendJson(res, 200, {
    type: 'FeatureCollection',
    numberMatched: features.length,
    numberReturned: page.length,
    features: page,
  });
}
