import { z } from 'zod';
import type { Model } from '../../platform/project/model';
import { json, notFound, queryObject, zodProblem, type ApiRequest, type ApiResponse } from './http';
import type { ApiContext, Route } from './router';
import { keysetPage, reading } from './listing';
import { CURSOR_PATTERN } from './rows';

/** Values per page of a history: a year of daily snapshots of a few hundred series fits in a few pages. */
export const HISTORY_PAGE_SIZE = 1000;
export const HISTORY_MAX_PAGE_SIZE = 10_000;
/**
 * An ISO 8601 date or date-time, as `from` and `to` take it: every value the pattern admits is
 * an instant (a day past the month's end rolls over, as JavaScript's dates do).
 */
export const INSTANT_PATTERN =
  '^[1-9]\\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])' +
  '(T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,6})?)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d))?$';
/** Parameters of every history; the indicator's key columns come on top. */
export const HISTORY_PARAMETERS = ['measure', 'from', 'to', 'limit', 'cursor'] as const;

/** The history of indicator models: their values at each pass that published them. */
export const historyRoutes: Route[] = [
  { method: 'GET', pattern: /^\/datasets\/([^/]+)\/history$/, handler: history },
];

/** The project's models that keep a history. */
export function indicatorModels(models: readonly Model[]): (Model & { header: { indicator: object } })[] {
  return models.filter(
    (model): model is Model & { header: { indicator: object } } => !!model.header.indicator,
  );
}

const instant = z
  .string()
  .regex(
    new RegExp(INSTANT_PATTERN),
    'an ISO 8601 date or date-time with its offset (2026-12-01, 2026-12-01T08:00:00Z)',
  )
  .refine((text) => !Number.isNaN(Date.parse(text)), 'not a real date')
  .transform((text) => new Date(Date.parse(text)).toISOString());

async function history(context: ApiContext, request: ApiRequest, [name]: string[]): Promise<ApiResponse> {
  const model = context.project.models.find((candidate) => candidate.name === name);
  const indicators = indicatorModels(context.project.models).map((candidate) => candidate.name);
  if (!model?.header.indicator)
    throw notFound(
      `${name} keeps no history (it is not an indicator)${indicators.length > 0 ? `; indicators: ${indicators.join(', ')}` : ''}`,
    );
  const indicator = model.header.indicator;
  const keys = [indicator.key ?? []].flat();
  const schema = z.strictObject({
    measure: z.enum(indicator.values as [string, ...string[]]).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z
      .string()
      .regex(/^[0-9]{1,5}$/, 'an integer')
      .transform(Number)
      .pipe(z.number().min(1).max(HISTORY_MAX_PAGE_SIZE))
      .default(HISTORY_PAGE_SIZE),
    cursor: z
      .string()
      .regex(new RegExp(CURSOR_PATTERN), 'not a cursor: use the next link as given')
      .optional(),
    ...Object.fromEntries(keys.map((key) => [key, z.string().max(1000).optional()])),
  });
  const parsed = schema.safeParse(queryObject(request.query));
  if (!parsed.success) throw zodProblem(parsed.error, `parameters for /datasets/${name}/history`);
  const query = parsed.data as Record<string, string | number | undefined>;
  const { from, to, limit, cursor } = parsed.data;
  let after: [string, string] | undefined;
  if (cursor) {
    const decoded = /^(\d{4}-[\d:.TZ+-]+)\|(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!decoded || Number.isNaN(Date.parse(decoded[1]!)))
      throw notFound('no such page of this history: follow the next link as given');
    after = [decoded[1]!, decoded[2]!];
  }
  // The series filters: the key columns given, compared as text (numbers as they print).
  const filters = keys.filter((key) => query[key] !== undefined);
  const parameters: unknown[] = [
    name,
    parsed.data.measure ?? null,
    from ?? null,
    to ?? null,
    after?.[0] ?? null,
    after?.[1] ?? null,
    limit + 1,
  ];
  const conditions = filters.map(
    (key) => `series ->> $${parameters.push(key)}::text = $${parameters.push(String(query[key]))}::text`,
  );
  const rows = await reading(context, async (client) => {
    return (
      await client.query<{
        id: string;
        taken_at: Date;
        taken_text: string;
        transform_id: string;
        run_ids: string[];
        series: Record<string, unknown>;
        label: string | null;
        measure: string;
        value: number | null;
      }>(
        `SELECT id::text, taken_at, to_json(taken_at)#>>'{}' AS taken_text, transform_id, run_ids, series, label, measure, value
           FROM ops.indicator_values
           WHERE model = $1 AND ($2::text IS NULL OR measure = $2)
             AND ($3::timestamptz IS NULL OR taken_at >= $3) AND ($4::timestamptz IS NULL OR taken_at < $4)
             AND ($5::timestamptz IS NULL OR (taken_at, id) > ($5, $6::bigint))
             ${conditions.map((condition) => `AND ${condition}`).join(' ')}
           ORDER BY taken_at, id LIMIT $7`,
        parameters,
      )
    ).rows;
  });
  const { page, links } = keysetPage(
    rows,
    limit,
    request,
    `/datasets/${name}/history`,
    (last) => `${last.taken_text}|${last.id}`,
  );
  return json(200, {
    data: page.map((row) => ({
      takenAt: row.taken_at.toISOString(),
      transformId: row.transform_id,
      runIds: row.run_ids,
      series: row.series,
      label: row.label,
      measure: row.measure,
      value: row.value,
    })),
    links,
    meta: { model: name, key: keys, values: indicator.values, limit, returned: page.length },
  });
}
