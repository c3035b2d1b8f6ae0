/** The collection HTTP client against real, hostile servers on loopback. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BodyError,
  TerminalError,
  TransientHttpError,
  httpGet,
  openTables,
  retryAfterMs,
  withBodyRetries,
  type HttpPolicy,
} from '@datacycle/core';
import { startServer } from '../helpers/http-server';

const fast: Partial<HttpPolicy> = {
  attempts: 4,
  backoffBaseMs: 10,
  backoffCapMs: 50,
  timeoutMs: 1000,
  idleTimeoutMs: 300,
  perHostIntervalMs: 0,
  // The test servers listen on loopback: allowed here, as the demo project allows them.
  allowNetworks: ['127.0.0.1/32'],
};
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(handler: Parameters<typeof startServer>[0]) {
  const server = await startServer(handler);
  close = server.close;
  return server;
}

const text = async (response: Awaited<ReturnType<typeof httpGet>>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe('httpGet', () => {
  it('retries 500s with backoff, then succeeds, naming itself in the User-Agent', async () => {
    const server = await serve((_req, res, count) =>
      count < 3 ? res.writeHead(500).end('boom') : res.writeHead(200).end('ok'),
    );

    const response = await httpGet(`${server.url}/file.csv`, { policy: fast });

    expect(await text(response)).toBe('ok');
    expect(server.requests).toHaveLength(3);
    expect(server.requests[0]!.headers['user-agent']).toMatch(/^datacycle\//);
  });

  it('gives up after the last attempt with a transient error (so the run is retried later)', async () => {
    const server = await serve((_req, res) => res.writeHead(503).end());
    await expect(httpGet(server.url, { policy: fast })).rejects.toThrow(TransientHttpError);
    expect(server.requests).toHaveLength(4);
  });

  it('honours Retry-After on 429', async () => {
    const server = await serve((_req, res, count) =>
      count === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end('ok'),
    );
    const waits: number[] = [];

    await httpGet(server.url, { policy: fast, sleep: async (ms) => void waits.push(ms) });

    expect(waits).toEqual([1000]);
  });

  it('fails a server that never answers, on time', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    await expect(httpGet(server.url, { policy: { ...fast, attempts: 1, timeoutMs: 300 } })).rejects.toThrow(
      /no answer within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails a body that drips slower than the idle timeout', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('a'); // headers and a first byte at once, then a drip
      const timer = setInterval(() => res.write('a'), 1000);
      res.on('close', () => clearInterval(timer));
    });
    const response = await httpGet(server.url, { policy: fast });
    await expect(text(response)).rejects.toThrow(/no data for 300 ms/);
  });

  it('says how much of a body cut short arrived, and fetches it again whole', async () => {
    let requests = 0;
    let cutAlways = false;
    const server = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-length': 1000 });
      if (requests === 1 || cutAlways) {
        res.write('x'.repeat(300)); // then the connection is cut
        setTimeout(() => res.destroy(), 20);
      } else res.end('y'.repeat(1000));
    });
    const first = await httpGet(server.url, { policy: fast });
    const cut = text(first);
    await expect(cut).rejects.toBeInstanceOf(BodyError);
    await expect(cut).rejects.toThrow(/the body was cut after 300 bytes of the 1000 announced/);

    requests = 0;
    const whole = await withBodyRetries(
      server.url,
      async () => text(await httpGet(server.url, { policy: fast })),
      {
        policy: fast,
      },
    );
    expect(whole).toBe('y'.repeat(1000));
    expect(requests).toBe(2);

    // Always cut: a transient error naming the attempts, for the next scheduled run.
    cutAlways = true;
    await expect(
      withBodyRetries(server.url, async () => text(await httpGet(server.url, { policy: fast })), {
        policy: fast,
      }),
    ).rejects.toThrow(/failed after 4 attempts: .*the body was cut after 300 bytes/);
  });

  it('refuses an oversized body, announced or streamed', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/announced') res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
      else {
        res.writeHead(200);
        res.end('y'.repeat(5000));
      }
    });
    const policy = { ...fast, maxBytes: 1000 };
    await expect(httpGet(`${server.url}/announced`, { policy })).rejects.toThrow(
      /5000 bytes announced, over the limit of 1000/,
    );
    const streamed = await httpGet(`${server.url}/chunked`, { policy });
    await expect(text(streamed)).rejects.toThrow(/body over the limit of 1000 bytes/);
  });

  it('follows redirects a bounded number of times', async () => {
    const server = await serve((req, res) =>
      res.writeHead(302, { location: `/hop${Number(req.url!.slice(4) || 0) + 1}` }).end(),
    );
    await expect(httpGet(`${server.url}/hop0`, { policy: fast })).rejects.toThrow(/more than 5 redirects/);
    expect(server.requests).toHaveLength(6);
  });

  it('sends credentials to their origin only: a redirect elsewhere goes without them', async () => {
    const elsewhere = await startServer((_req, res) => res.writeHead(200).end('moved'));
    try {
      const server = await serve((req, res) =>
        req.url === '/same'
          ? res.writeHead(302, { location: '/final' }).end()
          : req.url === '/final'
            ? res.writeHead(200).end('here')
            : res.writeHead(302, { location: `${elsewhere.url}/file.csv` }).end(),
      );
      const credentials = { headers: { authorization: 'Bearer s3cret', 'x-api-key': 'k3y' } };

      expect(await text(await httpGet(`${server.url}/same`, { policy: fast, credentials }))).toBe('here');
      expect(server.requests.map((request) => request.headers.authorization)).toEqual([
        'Bearer s3cret',
        'Bearer s3cret',
      ]);
      expect(await text(await httpGet(`${server.url}/away`, { policy: fast, credentials }))).toBe('moved');
      expect(server.requests.at(-1)!.headers['x-api-key']).toBe('k3y');
      expect(elsewhere.requests).toHaveLength(1);
      expect(elsewhere.requests[0]!.headers.authorization).toBeUndefined();
      expect(elsewhere.requests[0]!.headers['x-api-key']).toBeUndefined();
    } finally {
      await elsewhere.close();
    }
  });

  it('does not retry a 404', async () => {
    const server = await serve((_req, res) => res.writeHead(404).end());
    await expect(httpGet(server.url, { policy: fast })).rejects.toThrow(TerminalError);
    expect(server.requests).toHaveLength(1);
  });

  it('returns 304 as an answer to a conditional GET', async () => {
    const server = await serve((req, res) =>
      res.writeHead(req.headers['if-none-match'] === '"v1"' ? 304 : 200).end(),
    );
    const response = await httpGet(server.url, {
      policy: fast,
      headers: { 'if-none-match': '"v1"' },
      acceptNotModified: true,
    });
    expect(response.status).toBe(304);
  });

  it('an HTML error page served as CSV is refused when read as data', async () => {
    const server = await serve((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/csv' })
        .end('<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>'),
    );
    const response = await httpGet(`${server.url}/export.csv`, { policy: fast });
    const read = async () => {
      for await (const table of openTables(response.body, { name: 'export.csv' })) void table;
    };
    await expect(read()).rejects.toThrow(/HTML page, not data/);
  });
});

describe('httpGet and private addresses (SSRF)', () => {
  const guarded = { ...fast, allowNetworks: [] };

  it('refuses a loopback IP literal before any connection', async () => {
    const server = await serve((_req, res) => res.end('secret'));
    await expect(httpGet(server.url, { policy: guarded })).rejects.toThrow(
      /127\.0\.0\.1 is a loopback address, refused \(not in the network allow-list\)/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('checks the address a name resolves to at connect time, and does not retry', async () => {
    const server = await serve((_req, res) => res.end('secret'));
    const byName = server.url.replace('127.0.0.1', 'localhost');
    const error = await httpGet(byName, { policy: guarded }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as Error).message).toMatch(/localhost resolves to .* loopback address: refused/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a redirect from an allowed server to the cloud metadata address', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end(),
    );
    await expect(httpGet(server.url, { policy: fast })).rejects.toThrow(
      /169\.254\.169\.254 is a linkLocal address, refused/,
    );
    expect(server.requests).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:30 GMT', Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(
      30_000,
    );
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
