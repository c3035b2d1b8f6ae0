import type pg from 'pg';
import type { Model } from '../../platform/project/model';
import type { Threshold } from '../../platform/project/schema';
import { qualified, quoteIdent } from '../../platform/warehouse';

/** One series whose value went beyond a threshold in this pass. */
export interface Crossing {
  series: Record<string, unknown>;
  label: string | null;
  value: number;
  /** Its value at the previous snapshot (null: none, or no value then). */
  previous: number | null;
}

/** A threshold crossed by one or more series of its indicator in a pass. */
export interface CrossedThreshold {
  threshold: Threshold;
  crossings: Crossing[];
}

/**
 * Keeps a snapshot of each indicator among the models just swapped in (in the pass's
 * transaction: the history holds exactly what was published), one row per series and
 * measure, and says which thresholds the new values crossed.
 */
export async function snapshotIndicators(
  client: pg.PoolClient,
  models: readonly Model[],
  thresholds: readonly Threshold[],
  /** takenAt: the pass's time, the same for all its values (see runTransform). */
  pass: { transformId: string; runIds: string[]; takenAt: Date },
): Promise<CrossedThreshold[]> {
  const crossed: CrossedThreshold[] = [];
  for (const model of models) {
    const indicator = model.header.indicator;
    if (!indicator) continue;
    const keys = [indicator.key ?? []].flat();
    // Key and measure names are values here (JSON keys, the measure column): parameters.
    const parameters: unknown[] = [model.name, pass.transformId, pass.runIds, pass.takenAt];
    const parameter = (value: string) => `$${parameters.push(value)}::text`;
    const series =
      keys.length > 0
        ? `jsonb_build_object(${keys.map((key) => `${parameter(key)}, t.${quoteIdent(key)}`).join(', ')})`
        : `'{}'::jsonb`;
    const label = indicator.label ? `t.${quoteIdent(indicator.label)}::text` : 'NULL';
    const measures = indicator.values
      .map((value) => `(${parameter(value)}, t.${quoteIdent(value)}::double precision)`)
      .join(', ');
    await client.query(
      `INSERT INTO ops.indicator_values (model, taken_at, transform_id, run_ids, series, label, measure, value)
       SELECT $1, $4::timestamptz, $2, $3, ${series}, ${label}, m.measure, m.value
       FROM ${qualified('enriched', model.name)} AS t CROSS JOIN LATERAL (VALUES ${measures}) AS m(measure, value)`,
      parameters,
    );
    for (const threshold of thresholds.filter((candidate) => candidate.model === model.name)) {
      const crossings = await crossingsOf(client, threshold, pass.transformId);
      if (crossings.length > 0) crossed.push({ threshold, crossings });
    }
  }
  return crossed;
}

/** Series beyond the threshold now that were not beyond it at the previous snapshot. */
async function crossingsOf(
  client: pg.PoolClient,
  threshold: Threshold,
  transformId: string,
): Promise<Crossing[]> {
  const { rows } = await client.query<{
    series: Record<string, unknown>;
    label: string | null;
    value: number | null;
    previous: number | null;
  }>(
    `WITH current AS (
       SELECT series, label, value FROM ops.indicator_values
       WHERE transform_id = $1 AND model = $2 AND measure = $3 AND series @> $4::jsonb
     ), previous AS (
       SELECT DISTINCT ON (series) series, value FROM ops.indicator_values
       WHERE model = $2 AND measure = $3 AND transform_id <> $1 AND series @> $4::jsonb
       ORDER BY series, taken_at DESC, id DESC
     )
     SELECT c.series, c.label, c.value, p.value AS previous
     FROM current c LEFT JOIN previous p ON p.series = c.series
     ORDER BY c.series`,
    [transformId, threshold.model, threshold.measure, JSON.stringify(threshold.series ?? {})],
  );
  const beyond = (value: number | null) =>
    value !== null && (threshold.above !== undefined ? value > threshold.above : value < threshold.below!);
  return rows
    .filter((row) => beyond(row.value) && !beyond(row.previous))
    .map((row) => ({ series: row.series, label: row.label, value: row.value!, previous: row.previous }));
}
