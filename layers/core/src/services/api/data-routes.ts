import type pg from 'pg';
import { z } from 'zod';
import type { RunRow } from '../../platform/runs';
import { isNotFound, readObjectText } from '../../platform/storage';
import { qualified } from '../../platform/warehouse';
import { exportColumns, tableSchemaType, type ExportColumn } from '../../stages/publish/columns';
import { projectOutputs, type Output } from '../../stages/publish/outputs';
import {
  badRequest,
  json,
  notFound,
  queryObject,
  zodProblem,
  type ApiRequest,
  type ApiResponse,
} from './http';
import { openApiDocument } from './openapi';
import { redactJson } from './redact';
import { callerHoldsKey } from './router';
import { CURSOR_PATTERN, operatorsFor, parseRowsRequest, rowsPage } from './rows';
import { keysetPage, reading } from './listing';
import type { ApiContext, Route } from './router';

const segment = '([^/]+)';

/** The read API: the catalogue, datasets and their rows, runs. */
export const dataRoutes: Route[] = [
  { method: 'GET', pattern: /^\/openapi\.json$/, handler: openApi },
  { method: 'GET', pattern: /^\/catalog$/, handler: catalog },
  { method: 'GET', pattern: /^\/datasets$/, handler: datasets },
  { method: 'GET', pattern: new RegExp(`^/datasets/${segment}$`), handler: dataset },
  { method: 'GET', pattern: new RegExp(`^/datasets/${segment}/schema$`), handler: datasetSchema },
  { method: 'GET', pattern: new RegExp(`^/datasets/${segment}/rows$`), handler: rows },
  { method: 'GET', pattern: /^\/runs$/, handler: runs },
  { method: 'GET', pattern: new RegExp(`^/runs/${segment}$`), handler: run },
];

function outputOf(context: ApiContext, id: string): Output {
  const output = projectOutputs(context.project).find((candidate) => candidate.name === id);
  if (!output) throw notFound(`no dataset or model ${id}; see /datasets`);
  return output;
}

async function columnsOf(client: pg.PoolClient | pg.Pool, output: Output): Promise<ExportColumn[]> {
  const columns = await exportColumns(client, output.relation, output.tableSchema, output.columnDocs);
  if (columns.length === 0) throw notFound(`${output.name} has no data yet`);
  return columns;
}

const links = (request: ApiRequest, output: Output) => ({
  self: `${request.baseUrl}/datasets/${output.name}`,
  schema: `${request.baseUrl}/datasets/${output.name}/schema`,
  rows: `${request.baseUrl}/datasets/${output.name}/rows`,
});

const summary = (request: ApiRequest, output: Output) => ({
  id: output.name,
  kind: output.kind,
  title: output.title,
  description: output.description ?? null,
  links: links(request, output),
});

let documentCache: { at: number; base: string; document: unknown } | undefined;

async function openApi(context: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  // Generated from the relations themselves; kept a minute (a redeploy changes them).
  if (!documentCache || documentCache.base !== request.baseUrl || Date.now() - documentCache.at > 60_000) {
    const outputs: { output: Output; columns: ExportColumn[] }[] = [];
    for (const output of projectOutputs(context.project)) {
      const columns = await exportColumns(
        context.pool,
        output.relation,
        output.tableSchema,
        output.columnDocs,
      );
      if (columns.length > 0) outputs.push({ output, columns });
    }
    documentCache = {
      at: Date.now(),
      base: request.baseUrl,
      document: openApiDocument(context.project, outputs, request.baseUrl),
    };
  }
  return json(200, documentCache.document);
}

async function catalog(context: ApiContext): Promise<ApiResponse> {
  try {
    const document = await readObjectText(context.s3, {
      bucket: context.publicBucket,
      key: 'catalog/catalog.jsonld',
    });
    return {
      status: 200,
      headers: { 'content-type': 'application/ld+json', 'access-control-allow-origin': '*' },
      body: document,
    };
  } catch (error) {
    if (isNotFound(error))
      throw notFound('the catalog is published with the first exports; nothing is published yet');
    throw error;
  }
}

async function datasets(context: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  return json(200, { data: projectOutputs(context.project).map((output) => summary(request, output)) });
}

async function dataset(context: ApiContext, request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  const output = outputOf(context, id!);
  return reading(context, async (client) => {
    const columns = await columnsOf(client, output);
    const relation = qualified(output.relation.schema, output.relation.name);
    const { rows } = await client.query<{ n: string; loaded: Date | null }>(
      `SELECT count(*) AS n, ${output.kind === 'dataset' ? 'max(_loaded_at)' : 'NULL::timestamptz'} AS loaded FROM ${relation}`,
    );
    return json(200, {
      ...summary(request, output),
      rows: Number(rows[0]!.n),
      licence: output.licence,
      spatial: columns.some((column) => column.kind === 'geometry'),
      lastLoadedAt: rows[0]!.loaded?.toISOString() ?? null,
      fields: columns.map((column) => ({
        name: column.name,
        type: column.field?.type ?? tableSchemaType(column),
        description: column.description ?? null,
        filters: operatorsFor(column),
      })),
    });
  });
}

async function datasetSchema(
  context: ApiContext,
  _request: ApiRequest,
  [id]: string[],
): Promise<ApiResponse> {
  const output = outputOf(context, id!);
  if (output.tableSchema) return json(200, output.tableSchema);
  const columns = await columnsOf(context.pool, output);
  return json(200, {
    fields: columns.map((column) => ({
      name: column.name,
      type: tableSchemaType(column),
      ...(column.description ? { description: column.description } : {}),
    })),
    ...(output.kind === 'model' ? { description: `columns of model ${output.name}` } : {}),
  });
}

async function rows(context: ApiContext, request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  const output = outputOf(context, id!);
  return reading(context, async (client) => {
    const columns = await columnsOf(client, output);
    const { rows: kinds } = await client.query<{ relkind: string }>(
      'SELECT relkind FROM pg_class WHERE oid = to_regclass($1)',
      [qualified(output.relation.schema, output.relation.name)],
    );
    const parsed = parseRowsRequest(
      request.query,
      output,
      context.project,
      columns,
      kinds[0]?.relkind ?? 'v',
    );
    const self = new URL(`${request.baseUrl}${request.path}`);
    for (const [key, value] of request.query) if (key !== 'cursor') self.searchParams.append(key, value);
    return rowsPage(client, output, parsed, self);
  });
}

const runsQuerySchema = z.strictObject({
  dataset: z.string().max(100).optional(),
  status: z.enum(['running', 'succeeded', 'failed', 'skipped']).optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'an integer')
    .transform(Number)
    .pipe(z.number().min(1).max(100))
    .default(20),
  cursor: z.string().regex(new RegExp(CURSOR_PATTERN), 'not a cursor: use the next link as given').optional(),
});

const runJson = (row: RunRow) => ({
  id: row.id,
  trigger: row.trigger,
  dataset: row.dataset,
  status: row.status,
  startedAt: row.started_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
  error: row.error,
});

async function runs(context: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const parsed = runsQuerySchema.safeParse(queryObject(request.query));
  if (!parsed.success) throw zodProblem(parsed.error, 'parameters for /runs');
  const { dataset: datasetId, status, limit, cursor } = parsed.data;
  if (datasetId !== undefined && !projectOutputs(context.project).some((output) => output.name === datasetId))
    throw badRequest('unknown dataset', [
      { parameter: 'dataset', message: `${datasetId} is not a dataset or model; see /datasets` },
    ]);
  let after: [string, string] | undefined;
  if (cursor) {
    const decoded = /^(\d{4}-[\d:.TZ-]+)\|([0-9a-f-]{36})$/.exec(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    );
    // Well-formed but not given by this listing: no such page.
    if (!decoded || Number.isNaN(Date.parse(decoded[1]!)))
      throw notFound(
        'no such page of runs: the cursor was not given by this listing; follow the next link as given',
      );
    after = [decoded[1]!, decoded[2]!];
  }
  // Errors may carry what a key holder may see and an anonymous reader may not (a source URL
  // with its credentials): redacted unless the caller sends the API key.
  const shown = (await callerHoldsKey(context, request)) ? <T>(value: T) => value : redactJson;
  return reading(context, async (client) => {
    const { rows } = await client
      .query<RunRow & { started_text: string }>(
        `SELECT id, trigger, dataset, status, started_at, finished_at, error, to_json(started_at)#>>'{}' AS started_text FROM ops.runs
       WHERE ($1::text IS NULL OR dataset = $1) AND ($2::text IS NULL OR status = $2)
         AND ($3::timestamptz IS NULL OR (started_at, id) < ($3, $4::uuid))
       ORDER BY started_at DESC, id DESC LIMIT $5`,
        [datasetId ?? null, status ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      )
      .catch((error: { code?: string }) => {
        // A cursor whose values PostgreSQL cannot read was not given by this listing either.
        if (after && error.code?.startsWith('22'))
          throw notFound('no such page of runs: follow the next link as given');
        throw error;
      });
    const { page, links } = keysetPage(
      rows,
      limit,
      request,
      '/runs',
      (last) => `${last.started_text}|${last.id}`,
    );
    return json(200, { data: page.map((row) => shown(runJson(row))), links });
  });
}

async function run(context: ApiContext, request: ApiRequest, [id]: string[]): Promise<ApiResponse> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id!))
    throw badRequest('a run id is a UUID', [{ parameter: 'id', message: 'not a UUID' }]);
  const shown = (await callerHoldsKey(context, request)) ? <T>(value: T) => value : redactJson;
  return reading(context, async (client) => {
    const { rows } = await client.query<RunRow>('SELECT * FROM ops.runs WHERE id = $1', [id]);
    if (!rows[0]) throw notFound(`no run ${id}`);
    const { rows: steps } = await client.query(
      `SELECT step, subject, status, started_at AS "startedAt", finished_at AS "finishedAt", error, details
       FROM ops.run_steps WHERE run_id = $1 ORDER BY id`,
      [id],
    );
    const { rows: files } = await client.query(
      `SELECT dataset, source_key AS "sourceKey", sha256, size_bytes::float8 AS "sizeBytes", status,
         rows_loaded::float8 AS "rowsLoaded", error, received_at AS "receivedAt" FROM ops.files WHERE run_id = $1 ORDER BY id`,
      [id],
    );
    return json(200, shown({ ...runJson(rows[0]), steps, files }));
  });
}
