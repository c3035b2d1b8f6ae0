import type pg from 'pg';
import type { Chart } from '../../../platform/project';
import { parseRelationTarget } from '../../../platform/project/test-declarations';
import { datasetTableName, qualified, quoteIdent } from '../../../platform/warehouse';
import { exportColumns, type ExportColumn } from '../columns';
import type { Output } from '../outputs';
import type { Extent, MapFeature, TimeSeries } from './svg';

/** The most features drawn on a map: beyond that, a random sample of them. */
export const mapFeatureLimit = 2_000;
const previewRows = 10;

/** The first rows, as short text (geometries named, not spelled out). */
export async function previewOf(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
): Promise<{ columns: string[]; rows: (string | null)[][] }> {
  const expressions = columns.map((column) => {
    const ref = quoteIdent(column.name);
    if (column.kind === 'geometry')
      return `CASE WHEN GeometryType(${ref}) = 'POINT' THEN ST_AsText(${ref}, 5)
        ELSE initcap(GeometryType(${ref})) || ' (' || ST_NPoints(${ref}) || ' points)' END`;
    return `left(${ref}::text, 120)`;
  });
  const { rows } = await client.query<string[]>({
    text: `SELECT ${expressions.join(', ')} FROM ${relation} LIMIT ${previewRows}`,
    rowMode: 'array',
  });
  return { columns: columns.map((column) => column.name), rows };
}

/** Where the features are, projected (Web Mercator), with y down as SVG draws it. */
async function projectedExtent(
  client: pg.PoolClient,
  relation: string,
  geometry: string,
  /** The bounding box the catalog computed (WKT, WGS 84): saves a pass over the table. */
  bbox?: string,
): Promise<Extent | undefined> {
  const ref = quoteIdent(geometry);
  const extent = bbox
    ? `SELECT ST_Transform(ST_GeomFromText($1, 4326), 3857) AS e`
    : `SELECT ST_Extent(ST_Transform(${ref}, 3857)) AS e FROM ${relation} WHERE ${ref} IS NOT NULL`;
  const { rows } = await client.query<Extent>(
    `SELECT ST_XMin(e) AS "minX", -ST_YMax(e) AS "minY", ST_XMax(e) AS "maxX", -ST_YMin(e) AS "maxY"
     FROM (${extent}) AS extent WHERE e IS NOT NULL`,
    bbox ? [bbox] : [],
  );
  return rows[0];
}

const tolerance = (extent: Extent) => Math.max(extent.maxX - extent.minX, extent.maxY - extent.minY) / 1500;

/** Projected, simplified shapes or points of a relation, labelled, at most `mapFeatureLimit`. */
export async function mapOf(
  client: pg.PoolClient,
  relation: string,
  geometry: string,
  label: string,
  total: number,
  bbox?: string,
): Promise<{ features: MapFeature[]; extent: Extent; sampled: boolean } | undefined> {
  const extent = await projectedExtent(client, relation, geometry, bbox);
  if (!extent) return undefined;
  const sampled = total > mapFeatureLimit;
  // Bernoulli sampling a little above the limit, then the limit: a fair sample in one scan.
  const sample = sampled
    ? `TABLESAMPLE BERNOULLI (${Math.min(100, ((mapFeatureLimit * 1.3) / total) * 100)})`
    : '';
  const { rows } = await client.query<{
    label: string | null;
    point: boolean;
    x: number;
    y: number;
    d: string;
  }>(
    `SELECT ${quoteIdent(label)}::text AS label, GeometryType(__map_geometry) = 'POINT' AS point,
       CASE WHEN GeometryType(__map_geometry) = 'POINT' THEN ST_X(__map_geometry) END AS x,
       CASE WHEN GeometryType(__map_geometry) = 'POINT' THEN -ST_Y(__map_geometry) END AS y,
       CASE WHEN GeometryType(__map_geometry) <> 'POINT' THEN ST_AsSVG(ST_SimplifyPreserveTopology(__map_geometry, $1), 0, 0) END AS d
     FROM (SELECT *, ST_Transform(${quoteIdent(geometry)}, 3857) AS __map_geometry FROM ${relation} ${sample}
           WHERE ${quoteIdent(geometry)} IS NOT NULL LIMIT ${mapFeatureLimit}) AS features`,
    [tolerance(extent)],
  );
  const features = rows.map((row): MapFeature =>
    row.point
      ? { kind: 'point', x: row.x, y: row.y, label: row.label ?? '' }
      : { kind: 'shape', path: row.d, label: row.label ?? '' },
  );
  return { features, extent, sampled };
}

/** The rows of a bar chart: the largest values first. */
export async function barChartRows(
  client: pg.PoolClient,
  relation: string,
  chart: Extract<Chart, { type: 'bar' }>,
): Promise<{ label: string; value: number }[]> {
  const { rows } = await client.query<{ label: string | null; value: number | null }>(
    `SELECT ${quoteIdent(chart.label)}::text AS label, ${quoteIdent(chart.value)}::float8 AS value
     FROM ${relation} WHERE ${quoteIdent(chart.value)} IS NOT NULL
     ORDER BY 2 DESC, 1 LIMIT ${chart.limit}`,
  );
  return rows.map((row) => ({ label: row.label ?? '', value: row.value ?? 0 }));
}

/** The areas of a choropleth with their values: the model's own geometry or joined ones. */
export async function choroplethOf(
  client: pg.PoolClient,
  output: Output,
  chart: Extract<Chart, { type: 'choropleth' }>,
  /** The catalog's bounding box of a dataset or model, by name. */
  bboxOf: (name: string) => string | undefined,
): Promise<{ features: MapFeature[]; extent: Extent } | undefined> {
  const own = qualified(output.relation.schema, output.relation.name);
  let areas = own;
  let areasName = output.name;
  let geometry: string | undefined;
  let join = '';
  let from = `${own} AS m`;
  if (chart.areas && chart.key) {
    const target = parseRelationTarget(chart.areas.from);
    areasName = target.name;
    const relation =
      target.kind === 'source'
        ? { schema: 'raw', name: datasetTableName(target.name) }
        : { schema: 'enriched', name: target.name };
    areas = qualified(relation.schema, relation.name);
    geometry = (await exportColumns(client, relation)).find((column) => column.kind === 'geometry')?.name;
    from = `${own} AS m JOIN ${areas} AS a`;
    join = `ON a.${quoteIdent(chart.areas.key)}::text = m.${quoteIdent(chart.key)}::text`;
  } else {
    geometry = (await exportColumns(client, output.relation)).find(
      (column) => column.kind === 'geometry',
    )?.name;
  }
  if (!geometry) return undefined;
  const extent = await projectedExtent(client, areas, geometry, bboxOf(areasName));
  if (!extent) return undefined;
  const area = chart.areas ? `a.${quoteIdent(geometry)}` : `m.${quoteIdent(geometry)}`;
  const label = chart.label ? `m.${quoteIdent(chart.label)}::text` : `NULL::text`;
  const { rows } = await client.query<{ label: string | null; value: number | null; d: string }>(
    `SELECT ${label} AS label, m.${quoteIdent(chart.value)}::float8 AS value,
       ST_AsSVG(ST_SimplifyPreserveTopology(ST_Transform(${area}, 3857), $1), 0, 0) AS d
     FROM ${from} ${join} WHERE ${area} IS NOT NULL`,
    [tolerance(extent)],
  );
  return {
    extent,
    features: rows.map((row) => ({
      kind: 'shape',
      path: row.d,
      label: row.label ?? '',
      value: row.value ?? undefined,
    })),
  };
}

export interface RunSummary {
  id: string;
  trigger: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  steps: { step: string; status: string }[];
  error: string | null;
}

/** The last runs that loaded a dataset, or (for a model) that rebuilt it from its sources. */
export async function lastRuns(pool: pg.Pool, output: Output, sources: string[]): Promise<RunSummary[]> {
  const { rows } = await pool.query<{
    id: string;
    trigger: string;
    status: string;
    started_at: Date;
    finished_at: Date | null;
    error: string | null;
    steps: { step: string; status: string }[] | null;
  }>(
    `SELECT r.id, r.trigger, r.status, r.started_at, r.finished_at, r.error,
       (SELECT json_agg(json_build_object('step', s.step, 'status', s.status) ORDER BY s.id)
        FROM ops.run_steps s WHERE s.run_id = r.id) AS steps
     FROM ops.runs r
     WHERE r.dataset = ANY($1)
       AND ($2 OR EXISTS (SELECT 1 FROM ops.run_steps s WHERE s.run_id = r.id AND s.step = 'transform'))
     ORDER BY r.started_at DESC LIMIT 8`,
    [output.kind === 'dataset' ? [output.name] : sources, output.kind === 'dataset'],
  );
  return rows.map((row) => ({
    id: row.id,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
    steps: row.steps ?? [],
  }));
}

/** The latest result of each data test of each subject. */
export async function latestTestResults(
  pool: pg.Pool,
): Promise<Map<string, { test: string; status: string; severity: string; message: string }[]>> {
  const { rows } = await pool.query<{
    subject: string;
    test: string;
    status: string;
    severity: string;
    message: string;
  }>(
    `SELECT DISTINCT ON (subject, test) subject, test, status, severity, message FROM ops.test_results
     ORDER BY subject, test, checked_at DESC`,
  );
  const bySubject = new Map<string, { test: string; status: string; severity: string; message: string }[]>();
  for (const row of rows) {
    const list = bySubject.get(row.subject) ?? [];
    list.push({ test: row.test, status: row.status, severity: row.severity, message: row.message });
    bySubject.set(row.subject, list);
  }
  return bySubject;
}

/**
 * An indicator's history for one measure: the `limit` series with the largest last value,
 * each with its values at every snapshot (oldest first).
 */
export async function indicatorHistory(
  client: pg.PoolClient,
  model: string,
  measure: string,
  limit: number,
): Promise<{ series: TimeSeries[]; total: number }> {
  const { rows } = await client.query<{
    series: string;
    label: string | null;
    at: Date;
    value: number;
    rank: number;
    total: number;
  }>(
    `WITH last AS (
       SELECT DISTINCT ON (series) series, value FROM ops.indicator_values
       WHERE model = $1 AND measure = $2 AND value IS NOT NULL ORDER BY series, taken_at DESC, id DESC
     ), ranked AS (
       SELECT series, row_number() OVER (ORDER BY value DESC, series::text) AS rank, count(*) OVER () AS total FROM last
     )
     SELECT v.series::text AS series, v.label, v.taken_at AS at, v.value, r.rank::int AS rank, r.total::int AS total
     FROM ops.indicator_values v JOIN ranked r ON r.series = v.series
     WHERE v.model = $1 AND v.measure = $2 AND v.value IS NOT NULL AND r.rank <= $3
     ORDER BY r.rank, v.taken_at, v.id`,
    [model, measure, limit],
  );
  const bySeries = new Map<string, TimeSeries>();
  for (const row of rows) {
    let line = bySeries.get(row.series);
    if (!line) {
      const key = Object.values(JSON.parse(row.series) as Record<string, unknown>)
        .map(String)
        .join(' · ');
      bySeries.set(row.series, (line = { label: row.label ?? (key || model), points: [] }));
    }
    line.label = row.label ?? line.label;
    line.points.push({ at: row.at, value: row.value });
  }
  return { series: [...bySeries.values()], total: rows[0]?.total ?? 0 };
}

/** Each dataset's last successful and last failed run (collection or load). */
export async function sourceRuns(
  pool: pg.Pool,
): Promise<Map<string, { lastSuccess: Date | null; lastFailure: Date | null }>> {
  const { rows } = await pool.query<{
    dataset: string;
    last_success: Date | null;
    last_failure: Date | null;
  }>(
    `SELECT dataset,
       max(coalesce(finished_at, started_at)) FILTER (WHERE status = 'succeeded') AS last_success,
       max(coalesce(finished_at, started_at)) FILTER (WHERE status = 'failed') AS last_failure
     FROM ops.runs WHERE dataset IS NOT NULL GROUP BY dataset`,
  );
  return new Map(
    rows.map((row) => [row.dataset, { lastSuccess: row.last_success, lastFailure: row.last_failure }]),
  );
}
