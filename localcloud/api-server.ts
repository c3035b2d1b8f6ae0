import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApiRequest, type ApiContext } from '@datacycle/core';

/**
 * The read API on a plain Node.js HTTP server: the same core as the function URL adapter,
 * for benchmarks (no Lambda in the way) and for trying the API against any database.
 */
export function serveApi(
  context: ApiContext,
  port = 0,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      handleApiRequest(context, {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
        ),
        body: chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined,
        baseUrl: url.origin,
      }).then(
        (response) => res.writeHead(response.status, response.headers).end(response.body),
        () => res.writeHead(500).end(),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${address.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    }),
  );
}
