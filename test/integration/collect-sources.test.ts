/** api and udata sources against loopback servers that behave like the real platforms. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { localClientConfig } from '../../localcloud/aws-clients';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  collectSource,
  migrate,
  type Buckets,
  type CollectContext,
  type SourceConfig,
} from '@datacycle/core';
import { startServer } from '../helpers/http-server';
import { localS3, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, testProject } from '../helpers/projects';

const s3 = localS3();
const pool = testPool();
const run = uniqueName('col');
let buckets: Buckets;
let close: (() => Promise<void>) | undefined;
const http = {
  attempts: 2,
  backoffBaseMs: 10,
  backoffCapMs: 20,
  timeoutMs: 2000,
  perHostIntervalMs: 0,
  allowNetworks: ['127.0.0.1/32'],
};

beforeAll(async () => {
  await migrate(pool);
  buckets = await createTestBuckets(s3, run);
});
afterEach(async () => {
  await close?.();
  close = undefined;
});
afterAll(() => pool.end());

const secrets = new SecretsManagerClient(localClientConfig());
const secretValue = async (name: string) =>
  (await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;

async function collect(source: SourceConfig, options: { id?: string; from?: string } = {}) {
  const id = options.id ?? uniqueName('ds');
  const project = testProject([{ id, schema: { fields: [{ name: 'id' }] }, config: { sources: [source] } }]);
  const context: CollectContext = { s3, pool, landingBucket: buckets.landing, http, secretValue };
  return collectSource(context, project.datasets[0]!, 0, { from: options.from });
}

async function landed(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: buckets.landing, Key: key }));
  return object.Body!.transformToString();
}

/** The latest scheduled run of a dataset (other test files record runs at the same time). */
async function lastRun(dataset: string) {
  const { rows } = await pool.query(
    "SELECT status, error, details FROM ops.runs WHERE trigger = 'schedule' AND dataset = $1 ORDER BY started_at DESC LIMIT 1",
    [dataset],
  );
  return rows[0] as { status: string; error: string | null; details: Record<string, unknown> };
}

async function serve(handler: Parameters<typeof startServer>[0]) {
  const server = await startServer(handler);
  close = server.close;
  return server;
}

const schedule = 'rate(1 day)';

describe('api source', () => {
  it('pages through an OpenDataSoft Explore v2.1 records endpoint into one NDJSON file', async () => {
    const total = 250;
    const server = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const offset = Number(url.searchParams.get('offset'));
      const limit = Number(url.searchParams.get('limit'));
      const results = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({
        id: String(offset + i),
      }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ total_count: total, results }));
    });

    const id = uniqueName('ds');
    const outcome = await collect(
      {
        type: 'api',
        preset: 'opendatasoft',
        url: `${server.url}/api/explore/v2.1/catalog/datasets/bornes/records`,
        schedule,
        maxPages: 1000,
      },
      { id },
    );

    expect(outcome.status).toBe('collected');
    if (outcome.status !== 'collected') return;
    const lines = (await landed(outcome.key)).trim().split('\n');
    expect(lines).toHaveLength(250);
    expect(JSON.parse(lines[249]!)).toEqual({ id: '249' });
    expect(server.requests.map((r) => new URL(r.url!, 'http://x').searchParams.get('offset'))).toEqual([
      '0',
      '100',
      '200',
    ]);
    expect((await lastRun(id)).details).toMatchObject({ pages: 3, records: 250 });
  });

  it('downloads an OpenDataSoft exports endpoint whole, conditionally, as one file', async () => {
    const csv = 'id;nom\n1;un\n2;deux\n';
    const server = await serve((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv', etag: '"v1"' }).end(csv);
    });
    const id = uniqueName('ods');
    const source: SourceConfig = {
      type: 'api',
      preset: 'opendatasoft',
      url: `${server.url}/api/explore/v2.1/catalog/datasets/bornes/exports/csv?delimiter=%3B`,
      schedule,
      maxPages: 1000,
    };

    const first = await collect(source, { id });
    const second = await collect(source, { id });

    expect(first.status).toBe('collected');
    if (first.status !== 'collected') return;
    expect(first.key).toMatch(new RegExp(`^${id}/.*-${id}\\.csv$`));
    expect(await landed(first.key)).toBe(csv);
    expect(second.status).toBe('unchanged');
    // One request each, and no paging parameters: the export is the whole dataset.
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/explore/v2.1/catalog/datasets/bornes/exports/csv?delimiter=%3B',
      '/api/explore/v2.1/catalog/datasets/bornes/exports/csv?delimiter=%3B',
    ]);
  });

  it('follows Link headers', async () => {
    const server = await serve((req, res) => {
      const page = Number(new URL(req.url!, 'http://x').searchParams.get('p') ?? 1);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page < 2) headers.link = `</items?p=${page + 1}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify([{ id: `p${page}` }]));
    });

    const outcome = await collect({
      type: 'api',
      url: `${server.url}/items`,
      pagination: { type: 'link-header' },
      schedule,
      maxPages: 10,
    });

    expect(outcome.status === 'collected' && (await landed(outcome.key))).toBe('{"id":"p1"}\n{"id":"p2"}\n');
  });

  it('stops a next link that loops forever, with the failure recorded', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200).end(JSON.stringify({ data: [{ id: 'x' }], next: '/same' })),
    );

    const id = uniqueName('ds');
    await expect(
      collect(
        {
          type: 'api',
          url: `${server.url}/same`,
          recordsPath: 'data',
          pagination: { type: 'next-url', nextPath: 'next' },
          schedule,
          maxPages: 100,
        },
        { id },
      ),
    ).rejects.toThrow(/pagination loops/);
    expect(await lastRun(id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/pagination loops/),
    });
  });

  it('stops at maxPages', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200).end(JSON.stringify({ results: Array.from({ length: 10 }, () => ({ id: 'x' })) })),
    );
    await expect(
      collect({
        type: 'api',
        url: server.url,
        recordsPath: 'results',
        pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', pageSize: 10 },
        schedule,
        maxPages: 3,
      }),
    ).rejects.toThrow(/more than 3 pages/);
  });

  it('refuses invalid JSON and a missing records array, saying which', async () => {
    const server = await serve((req, res) =>
      res.writeHead(200).end(req.url === '/broken' ? '{"results": [' : '{"items": []}'),
    );
    await expect(
      collect({ type: 'api', url: `${server.url}/broken`, schedule, maxPages: 5 }),
    ).rejects.toThrow(/did not return valid JSON/);
    await expect(
      collect({ type: 'api', url: `${server.url}/other`, recordsPath: 'results', schedule, maxPages: 5 }),
    ).rejects.toThrow(/no array of records at "results"/);
  });
});

describe('source credentials', () => {
  it('sends the token read from Secrets Manager, and fails clearly without it', async () => {
    const name = `datacycle/test/${uniqueName('token')}`;
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 's3cr3t-token' }));
    const server = await serve((req, res) =>
      req.headers.authorization === 'Bearer s3cr3t-token'
        ? res.writeHead(200).end(JSON.stringify([{ id: 'ok' }]))
        : res.writeHead(401).end(),
    );
    const source = { type: 'api' as const, url: `${server.url}/private`, schedule, maxPages: 5 };

    const outcome = await collect({
      ...source,
      auth: { header: 'Authorization', prefix: 'Bearer ', secret: name },
    });

    expect(outcome.status === 'collected' && (await landed(outcome.key))).toBe('{"id":"ok"}\n');
    await expect(collect(source)).rejects.toThrow(/401/);
  });
});

describe('source credentials across origins', () => {
  it('keeps the token for the source: a next page on another origin is asked without it', async () => {
    const name = `datacycle/test/${uniqueName('token')}`;
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 's3cr3t-token' }));
    const elsewhere = await startServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ id: 'p2' }])),
    );
    try {
      const server = await serve((_req, res) =>
        res
          .writeHead(200, {
            'content-type': 'application/json',
            link: `<${elsewhere.url}/items?p=2>; rel="next"`,
          })
          .end(JSON.stringify([{ id: 'p1' }])),
      );
      const outcome = await collect({
        type: 'api',
        url: `${server.url}/items`,
        pagination: { type: 'link-header' },
        schedule,
        maxPages: 2,
        auth: { header: 'Authorization', prefix: 'Bearer ', secret: name },
      });

      expect(outcome.status === 'collected' && (await landed(outcome.key))).toBe(
        '{"id":"p1"}\n{"id":"p2"}\n',
      );
      expect(server.requests[0]!.headers.authorization).toBe('Bearer s3cr3t-token');
      expect(elsewhere.requests).toHaveLength(1);
      expect(elsewhere.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await elsewhere.close();
    }
  });
});

describe('incremental api source', () => {
  it('asks only for records past its cursor, moves the cursor, and backfills on demand', async () => {
    const records = [
      { id: 'a', maj: '2024-01-01T00:00:00Z' },
      { id: 'b', maj: '2024-03-01T00:00:00Z' },
      { id: 'c', maj: '2024-02-01T00:00:00Z' },
    ];
    const server = await serve((req, res) => {
      const since = new URL(req.url!, 'http://x').searchParams.get('where');
      const after = since ? /maj > '(.+)'/.exec(since)![1]! : '';
      res.writeHead(200).end(JSON.stringify({ results: records.filter((r) => r.maj > after) }));
    });
    const id = uniqueName('inc');
    const source: SourceConfig = {
      type: 'api',
      url: `${server.url}/records`,
      recordsPath: 'results',
      schedule,
      maxPages: 10,
      incremental: { field: 'maj', param: 'where', template: "maj > '{cursor}'" },
    };
    const lines = async (outcome: Awaited<ReturnType<typeof collect>>) =>
      outcome.status === 'collected'
        ? (await landed(outcome.key))
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line).id)
        : [];

    const first = await collect(source, { id });
    const second = await collect(source, { id });
    records.push({ id: 'd', maj: '2024-04-01T00:00:00Z' });
    const third = await collect(source, { id });
    const backfill = await collect(source, { id, from: '' });

    expect(await lines(first)).toEqual(['a', 'b', 'c']);
    expect(second.status).toBe('unchanged');
    expect(await lines(third)).toEqual(['d']);
    expect(await lines(backfill)).toEqual(['a', 'b', 'c', 'd']);
    const wheres = server.requests.map((r) => new URL(r.url!, 'http://x').searchParams.get('where'));
    expect(wheres).toEqual([null, "maj > '2024-03-01T00:00:00Z'", "maj > '2024-03-01T00:00:00Z'", null]);
    const { rows } = await pool.query('SELECT cursor FROM ops.source_state WHERE dataset = $1', [id]);
    expect(rows).toEqual([{ cursor: '2024-04-01T00:00:00Z' }]);
  });
});

describe('wfs source', () => {
  it('pages GetFeature with startIndex and count into one GeoJSON FeatureCollection', async () => {
    const features = Array.from({ length: 5 }, (_, i) => ({
      type: 'Feature',
      properties: { code: `z${i}` },
      geometry: { type: 'Point', coordinates: [2 + i / 10, 47] },
    }));
    const server = await serve((req, res) => {
      const params = new URL(req.url!, 'http://x').searchParams;
      const start = Number(params.get('startIndex'));
      const page = features.slice(start, start + Number(params.get('count')));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'FeatureCollection', features: page }));
    });

    const outcome = await collect({
      type: 'wfs',
      url: `${server.url}/geoserver/wfs`,
      typeName: 'ign:zones',
      pageSize: 2,
      maxPages: 10,
      schedule,
    });

    expect(outcome.status).toBe('collected');
    if (outcome.status !== 'collected') return;
    const collection = JSON.parse(await landed(outcome.key)) as { type: string; features: unknown[] };
    expect(collection.type).toBe('FeatureCollection');
    expect(collection.features).toEqual(features);
    const first = new URL(server.requests[0]!.url!, 'http://x').searchParams;
    expect(Object.fromEntries(first)).toMatchObject({
      service: 'WFS',
      version: '2.0.0',
      request: 'GetFeature',
      typeNames: 'ign:zones',
      outputFormat: 'application/json',
      srsName: 'EPSG:4326',
      startIndex: '0',
      count: '2',
    });
    expect(server.requests).toHaveLength(3);
  });
});

describe('udata source', () => {
  it('picks the newest resource of the format and title asked, and lands its file', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/api/1/datasets/irve/') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            resources: [
              {
                title: 'Export IRVE statique',
                format: 'csv',
                url: `${base}/files/irve-old.csv`,
                last_modified: '2024-01-01T00:00:00',
              },
              {
                title: 'Export IRVE statique',
                format: 'csv',
                url: `${base}/files/irve-new.csv`,
                last_modified: '2024-06-01T00:00:00',
              },
              {
                title: 'Export IRVE statique',
                format: 'json',
                url: `${base}/files/irve.json`,
                last_modified: '2024-07-01T00:00:00',
              },
              { title: 'Documentation', format: 'pdf', url: `${base}/files/doc.pdf` },
            ],
          }),
        );
      } else res.writeHead(200, { 'content-type': 'text/csv' }).end(`id\n${req.url}\n`);
    });
    close = server.close;
    const base = server.url;

    const outcome = await collect({
      type: 'udata',
      dataset: 'irve',
      api: `${base}/api/1`,
      format: 'csv',
      title: 'statique',
      schedule,
    });

    expect(outcome.status === 'collected' && outcome.key).toMatch(/irve-new\.csv$/);
    expect(outcome.status === 'collected' && (await landed(outcome.key))).toBe('id\n/files/irve-new.csv\n');
  });

  it('names the resources available when none matches', async () => {
    const server = await serve((_req, res) =>
      res
        .writeHead(200)
        .end(
          JSON.stringify({ resources: [{ title: 'Doc', format: 'pdf', url: 'http://127.0.0.1:1/doc.pdf' }] }),
        ),
    );
    await expect(
      collect({ type: 'udata', dataset: 'x', api: `${server.url}/api/1`, format: 'csv', schedule }),
    ).rejects.toThrow(/no resource of x matches format csv/);
  });
});
