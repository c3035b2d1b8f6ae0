import { PassThrough } from 'node:stream';
import { TerminalError, errorMessage } from '../errors';
import type { Dataset, SourceConfig } from '../project';
import { finishRun, newRunId, startRun } from '../runs';
import { httpGet } from './http-client';
import { dropInLanding, type CollectContext, type CollectOutcome } from './http-source';

type ApiSource = Extract<SourceConfig, { type: 'api' }>;
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
 * Pages through a JSON API and writes every record, one per line (NDJSON), to the landing
 * zone in one object: ingestion then validates it like any file. Pagination stops on an
 * empty or short page, a missing next link, `maxPages`, or a next link seen before (a loop).
 */
export async function collectApiSource(
  context: CollectContext,
  dataset: Dataset,
  sourceIndex: number,
): Promise<CollectOutcome> {
  const source = dataset.config.sources[sourceIndex];
  if (!source || source.type !== 'api')
    throw new TerminalError(`dataset ${dataset.id} has no api source #${sourceIndex}`);
  const preset = source.preset ? presets[source.preset] : undefined;
  const recordsPath = source.recordsPath ?? preset?.recordsPath ?? '';
  const pagination = source.pagination ?? preset?.pagination ?? { type: 'none' };
  const runId = newRunId();
  await startRun(context.pool, {
    id: runId,
    trigger: 'schedule',
    dataset: dataset.id,
    details: { url: source.url },
  });
  const out = new PassThrough();
  try {
    const upload = dropInLanding(context, dataset.id, 'records.ndjson', out, { runId, source: source.url });
    // A failed upload must stop the paging (and the other way round).
    upload.catch((error: unknown) => out.destroy(error as Error));
    let pages = 0;
    let records = 0;
    try {
      for await (const page of pagesOf(context, source, pagination, recordsPath)) {
        pages++;
        for (const record of page) {
          records++;
          if (!out.write(`${JSON.stringify(record)}\n`))
            await new Promise((resolve) => out.once('drain', resolve));
        }
      }
      out.end();
    } catch (error) {
      out.destroy(error as Error);
      throw error;
    }
    const { key, bytes } = await upload;
    if (records === 0)
      throw new TerminalError(
        `${source.url} returned no records`,
        'check the URL, the records path and the filters',
      );
    await finishRun(context.pool, runId, 'succeeded', { details: { pages, records, key, bytes } });
    return { status: 'collected', runId, key, bytes };
  } catch (error) {
    await finishRun(context.pool, runId, 'failed', { error: errorMessage(error) }).catch(() => undefined);
    throw error;
  }
}

async function* pagesOf(
  context: CollectContext,
  source: ApiSource,
  pagination: Pagination,
  recordsPath: string,
) {
  const seen = new Set<string>();
  let url: string | undefined = firstPageUrl(source.url, pagination);
  for (let page = 0; url; page++) {
    if (page >= source.maxPages) {
      throw new TerminalError(
        `${source.url}: more than ${source.maxPages} pages`,
        'raise maxPages, or filter the query',
      );
    }
    if (seen.has(url))
      throw new TerminalError(`${source.url}: pagination loops (page ${page + 1} repeats ${url})`);
    seen.add(url);
    const response = await httpGet(url, { policy: context.http, headers: { accept: 'application/json' } });
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
    const records = at(body, recordsPath);
    if (!Array.isArray(records)) {
      throw new TerminalError(
        `${url}: no array of records at "${recordsPath || '(top level)'}"`,
        'set recordsPath in the source',
      );
    }
    yield records as unknown[];
    url = nextPageUrl(url, pagination, records.length, body, response.headers.get('link'));
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
