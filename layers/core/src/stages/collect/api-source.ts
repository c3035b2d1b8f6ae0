import { PassThrough } from 'node:stream';
import type pg from 'pg';
import { TerminalError, errorMessage, failedRun } from '../../platform/errors/errors';
import type { Dataset, SourceConfig } from '../../platform/project';
import { finishRun, newRunId, startRun } from '../../platform/runs/runs';
import { httpGet } from '../../platform/net/http-client';
import {
  authHeaders,
  collectFile,
  dropInLanding,
  type CollectContext,
  type CollectOutcome,
} from './http-source';

type ApiSource = Extract<SourceConfig, { type: 'api' }>;
type WfsSource = Extract<SourceConfig, { type: 'wfs' }>;
type Pagination = NonNullable<ApiSource['pagination']>;

/** What a preset fills in for a well-known platform. */
const presets: Record<NonNullable<ApiSource['preset']>, { recordsPath: string; pagination: Pagination }> = {
  // Explore API v2.1: /api/explore/v2.1/catalog/datasets/<id>/records, at most 100 per page.
  opendatasoft: {
    recordsPath: 'results',
    pagination: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', pageSize: 100 },
  },
};

/**
 * The format of an OpenDataSoft exports URL (…/datasets/<id>/exports/<format>), if it is one.
 * ODS names NDJSON "jsonl"; ingestion reads it by content whatever the extension.
 */
export function odsExportFormat(url: string): string | undefined {
  const match = /\/exports\/(csv|json|jsonl|geojson|parquet|xlsx)\/?$/.exec(new URL(url).pathname);
  return match ? match[1] : undefined;
}

interface PagedRequest {
  url: string;
  /** Credential headers: sent to the origin of `url` only, never to a next page elsewhere. */
  credentials: Record<string, string>;
  recordsPath: string;
  pagination: Pagination;
  maxPages: number;
}

/** How the records of all pages become one landing file. */
interface Output {
  filename: string;
  open: string;
  separator: string;
  close: string;
}
const ndjson: Output = { filename: 'records.ndjson', open: '', separator: '\n', close: '\n' };
const featureCollection: Output = {
  filename: 'features.geojson',
  open: '{"type":"FeatureCollection","features":[\n',
  separator: ',\n',
  close: '\n]}\n',
};

/**
 * Pages through a JSON API and writes every record, one per line (NDJSON), to the landing
 * zone in one object: ingestion then validates it like any file. Pagination stops on an
 * empty or short page, a missing next link, `maxPages`, or a next link seen before (a loop).
 * An incremental source asks only for records past its cursor, and moves the cursor to the
 * highest value it received once the file is safely in the landing zone.
 */
export async function collectApiSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
  options: { from?: string } = {},
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex];
  if (!source || source.type !== 'api')
    throw new TerminalError(`dataset ${dataset.id} has no api source #${sourceIndex}`);
  const exported = source.preset === 'opendatasoft' ? odsExportFormat(source.url) : undefined;
  if (exported) {
    // The whole dataset in one file: no 10 000-record cap as with records, and a file the
    // server can answer 304 for.
    return collectFile(context, dataset, sourceIndex, {
      url: source.url,
      auth: source.auth,
      filename: `${dataset.id}.${exported}`,
    });
  }
  const preset = source.preset ? presets[source.preset] : undefined;
  const incremental = source.incremental;
  const cursor = incremental
    ? (options.from ?? (await readCursor(context.pool, dataset.id, sourceIndex)))
    : undefined;
  const url = new URL(source.url);
  if (incremental && cursor)
    url.searchParams.set(incremental.param, (incremental.template ?? '{cursor}').replace('{cursor}', cursor));
  const request: PagedRequest = {
    url: url.toString(),
    credentials: await authHeaders(context, source.auth),
    recordsPath: source.recordsPath ?? preset?.recordsPath ?? '',
    pagination: source.pagination ?? preset?.pagination ?? { type: 'none' },
    maxPages: source.maxPages,
  };
  let highest = cursor;
  const track = incremental
    ? (record: unknown) => {
        const value = at(record, incremental.field);
        if (
          value !== undefined &&
          value !== null &&
          (highest === undefined || compareCursor(String(value), highest) > 0)
        )
          highest = String(value);
      }
    : undefined;
  return collectPages(
    context,
    dataset,
    request,
    ndjson,
    { cursor, backfill: options.from !== undefined },
    track,
    async () => {
      if (incremental && highest !== undefined && highest !== cursor)
        await saveCursor(context.pool, dataset.id, sourceIndex, source.url, highest);
    },
  );
}

/** OGC WFS 2.0 GetFeature as GeoJSON, paged with startIndex/count, into one FeatureCollection file. */
export async function collectWfsSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex] as WfsSource | undefined;
  if (!source || source.type !== 'wfs')
    throw new TerminalError(`dataset ${dataset.id} has no wfs source #${sourceIndex}`);
  const url = new URL(source.url);
  for (const [name, value] of Object.entries({
    service: 'WFS',
    version: '2.0.0',
    request: 'GetFeature',
    typeNames: source.typeName,
    outputFormat: 'application/json',
    srsName: 'EPSG:4326',
  })) {
    url.searchParams.set(name, value);
  }
  const request: PagedRequest = {
    url: url.toString(),
    credentials: await authHeaders(context, source.auth),
    recordsPath: 'features',
    pagination: { type: 'offset', offsetParam: 'startIndex', limitParam: 'count', pageSize: source.pageSize },
    maxPages: source.maxPages,
  };
  return collectPages(context, dataset, request, featureCollection, {}, undefined, async () => undefined);
}

async function collectPages(
  context: CollectContext,
  dataset: Dataset,
  request: PagedRequest,
  output: Output,
  details: Record<string, unknown>,
  onRecord: ((record: unknown) => void) | undefined,
  afterLanding: () => Promise<void>,
): Promise<CollectOutcome> {
  const runId = newRunId();
  await startRun(context.pool, {
    step: 'collect',
    id: runId,
    trigger: 'schedule',
    dataset: dataset.id,
    details: { url: request.url, ...details },
  });
  const out = new PassThrough();
  // The landing file is started with the first record: an incremental source with nothing
  // new drops nothing (an empty file would reach ingestion and be rejected).
  let upload: Promise<{ key: string; bytes: number }> | undefined;
  const startUpload = () => {
    upload = dropInLanding(context, dataset.id, output.filename, out, { runId, source: request.url });
    // A failed upload must stop the paging (and the other way round).
    upload.catch((error: unknown) => out.destroy(error as Error));
    out.write(output.open);
  };
  try {
    let pages = 0;
    let records = 0;
    try {
      for await (const page of pagesOf(context, request)) {
        pages++;
        for (const record of page) {
          if (!upload) startUpload();
          onRecord?.(record);
          const text = `${records === 0 ? '' : output.separator}${JSON.stringify(record)}`;
          records++;
          if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
        }
      }
      out.end(output.close);
    } catch (error) {
      // Fail the upload too (its stream has a reader only once it started).
      if (upload) out.destroy(error as Error);
      throw error;
    }
    if (!upload) {
      if (!details.cursor) {
        throw new TerminalError(
          `${request.url} returned no records`,
          'check the URL, the records path and the filters',
        );
      }
      await finishRun(context.pool, runId, 'collect', 'skipped', {
        details: { pages, records: 0, reason: 'nothing past the cursor' },
      });
      return { status: 'unchanged', runId };
    }
    const { key, bytes } = await upload;
    await afterLanding();
    await finishRun(context.pool, runId, 'collect', 'succeeded', { details: { pages, records, key, bytes } });
    return { status: 'collected', runId, key, bytes };
  } catch (error) {
    await finishRun(context.pool, runId, 'collect', 'failed', { error: errorMessage(error) }).catch(
      () => undefined,
    );
    throw failedRun(error, runId);
  }
}

async function* pagesOf(context: CollectContext, request: PagedRequest) {
  const seen = new Set<string>();
  let url: string | undefined = firstPageUrl(request.url, request.pagination);
  for (let page = 0; url; page++) {
    if (page >= request.maxPages) {
      throw new TerminalError(
        `${request.url}: more than ${request.maxPages} pages`,
        'raise maxPages, or filter the query',
      );
    }
    if (seen.has(url))
      throw new TerminalError(`${request.url}: pagination loops (page ${page + 1} repeats ${url})`);
    seen.add(url);
    const response = await httpGet(url, {
      policy: context.http,
      headers: { accept: 'application/json' },
      credentials: { headers: request.credentials, origin: new URL(request.url).origin },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      throw new TerminalError(
        `${url} did not return valid JSON: ${(error as Error).message}`,
        'the API may be down or the URL wrong',
      );
    }
    const records = at(body, request.recordsPath);
    if (!Array.isArray(records)) {
      throw new TerminalError(
        `${url}: no array of records at "${request.recordsPath || '(top level)'}"`,
        'set recordsPath in the source',
      );
    }
    yield records as unknown[];
    url = nextPageUrl(url, request.pagination, records.length, body, response.headers.get('link'));
  }
}

function firstPageUrl(base: string, pagination: Pagination): string {
  const url = new URL(base);
  if (pagination.type === 'offset') {
    url.searchParams.set(pagination.offsetParam, '0');
    url.searchParams.set(pagination.limitParam, String(pagination.pageSize));
  } else if (pagination.type === 'page') {
    url.searchParams.set(pagination.pageParam, String(pagination.firstPage));
    if (pagination.sizeParam) url.searchParams.set(pagination.sizeParam, String(pagination.pageSize));
  }
  return url.toString();
}

function nextPageUrl(
  current: string,
  pagination: Pagination,
  count: number,
  body: unknown,
  link: string | null,
): string | undefined {
  switch (pagination.type) {
    case 'none':
      return undefined;
    case 'offset': {
      if (count < pagination.pageSize) return undefined;
      const url = new URL(current);
      url.searchParams.set(
        pagination.offsetParam,
        String(Number(url.searchParams.get(pagination.offsetParam) ?? 0) + count),
      );
      return url.toString();
    }
    case 'page': {
      if (count === 0 || count < pagination.pageSize) return undefined;
      const url = new URL(current);
      url.searchParams.set(
        pagination.pageParam,
        String(Number(url.searchParams.get(pagination.pageParam)) + 1),
      );
      return url.toString();
    }
    case 'next-url': {
      const next = at(body, pagination.nextPath);
      return typeof next === 'string' && next !== '' ? new URL(next, current).toString() : undefined;
    }
    case 'link-header': {
      const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link ?? '');
      return match ? new URL(match[1]!, current).toString() : undefined;
    }
  }
}

/** Value at a dot path ('' is the value itself). */
function at(value: unknown, dotPath: string): unknown {
  if (dotPath === '') return value;
  return dotPath
    .split('.')
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      value,
    );
}

/** Numbers compare as numbers, anything else (ISO dates) as text. */
function compareCursor(a: string, b: string): number {
  const numeric = /^-?\d+(\.\d+)?$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readCursor(pool: pg.Pool, dataset: string, sourceIndex: number): Promise<string | undefined> {
  const { rows } = await pool.query<{ cursor: string | null }>(
    'SELECT cursor FROM ops.source_state WHERE dataset = $1 AND source_index = $2',
    [dataset, sourceIndex],
  );
  return rows[0]?.cursor ?? undefined;
}

async function saveCursor(
  pool: pg.Pool,
  dataset: string,
  sourceIndex: number,
  url: string,
  cursor: string,
): Promise<void> {
  await pool.query(
    `INSERT INTO ops.source_state (dataset, source_index, url, cursor, last_checked_at, last_changed_at)
     VALUES ($1, $2, $3, $4, now(), now())
     ON CONFLICT (dataset, source_index) DO UPDATE SET cursor = $4, last_checked_at = now(), last_changed_at = now()`,
    [dataset, sourceIndex, url, cursor],
  );
}
