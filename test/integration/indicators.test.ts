/** Indicator history and thresholds in transform passes, on a real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, parseModel, runTransform, type Model, type Project } from '@datacycle/core';
import { testPool, uniqueName } from '../helpers/local-cloud';
import { testProject } from '../helpers/projects';

const pool = testPool();
const suffix = uniqueName('ind').replace(/-/g, '_');
const counts = `counts-${suffix.replace(/_/g, '-')}`;
const countsTable = counts.replace(/-/g, '_');
const perCity = `per_city_${suffix}`;
const total = `total_${suffix}`;

const model = (name: string, lines: string[]): Model => {
  const parsed = parseModel(name, `models/${name}.sql`, lines.join('\n'));
  if (!parsed.model) throw new Error(JSON.stringify(parsed.issues));
  return parsed.model;
};

function project(): Project {
  const built = testProject(
    [{ id: counts, schema: { fields: [{ name: 'city' }] } }],
    [
      model(perCity, [
        '-- indicator:',
        '--   key: city',
        '--   label: name',
        '--   values: [points, power]',
        `SELECT city, upper(city) AS name, count(*) AS points, sum(power) AS power FROM {{ source('${counts}') }} GROUP BY city`,
      ]),
      model(total, [
        '-- indicator: { values: [points] }',
        `SELECT count(*) AS points FROM {{ source('${counts}') }}`,
      ]),
    ],
  );
  built.config.indicators.thresholds = [
    { model: perCity, measure: 'power', above: 100, severity: 'warning' },
    { model: total, measure: 'points', below: 2, severity: 'error', title: 'Almost no points left' },
  ];
  return built;
}

const load = async (rows: [string, number][]) => {
  await pool.query(`TRUNCATE raw.${countsTable}`);
  for (const row of rows) await pool.query(`INSERT INTO raw.${countsTable} VALUES ($1, $2)`, row);
  return runTransform({ pool, project: project() }, { datasets: [counts], runIds: [] });
};
const crossings = (outcome: Awaited<ReturnType<typeof load>>) =>
  (outcome.crossed ?? []).map(({ threshold, crossings: list }) => [
    threshold.measure,
    list.map((crossing) => [crossing.label, crossing.value, crossing.previous]),
  ]);

beforeAll(async () => {
  await migrate(pool);
  await pool.query(`CREATE TABLE raw.${countsTable} (city text, power numeric)`);
});
afterAll(async () => {
  for (const name of [perCity, total]) await pool.query(`DROP TABLE IF EXISTS enriched.${name}`);
  await pool.query(`DROP TABLE IF EXISTS raw.${countsTable}`);
  await pool.query('DELETE FROM ops.indicator_values WHERE model = ANY($1)', [[perCity, total]]);
  await pool.end();
});

describe('indicator history', () => {
  it('keeps a snapshot of each series and measure per published pass, and says which thresholds were crossed', async () => {
    // Pass 1: Tours beyond 100 kW at its first value (a crossing); 3 points in all.
    const first = await load([
      ['orleans', 22],
      ['orleans', 50],
      ['tours', 150],
    ]);
    expect(first.status).toBe('swapped-in');
    expect(crossings(first)).toEqual([['power', [['TOURS', 150, null]]]]);

    // Pass 2: Tours stays beyond (no new crossing), Orléans goes beyond; 1 point left in all.
    const second = await load([
      ['orleans', 120],
      ['tours', 160],
    ]);
    expect(crossings(second)).toEqual([['power', [['ORLEANS', 120, 72]]]]);

    // Pass 3: one point left in all, below 2: the other threshold.
    const third = await load([['tours', 10]]);
    expect(crossings(third)).toEqual([['points', [[null, 1, 2]]]]);

    const { rows } = await pool.query(
      `SELECT series, label, measure, value FROM ops.indicator_values WHERE model = $1 ORDER BY taken_at, series::text, measure`,
      [perCity],
    );
    expect(rows).toEqual([
      { series: { city: 'orleans' }, label: 'ORLEANS', measure: 'points', value: 2 },
      { series: { city: 'orleans' }, label: 'ORLEANS', measure: 'power', value: 72 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'points', value: 1 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'power', value: 150 },
      { series: { city: 'orleans' }, label: 'ORLEANS', measure: 'points', value: 1 },
      { series: { city: 'orleans' }, label: 'ORLEANS', measure: 'power', value: 120 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'points', value: 1 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'power', value: 160 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'points', value: 1 },
      { series: { city: 'tours' }, label: 'TOURS', measure: 'power', value: 10 },
    ]);
    const history = await pool.query(
      `SELECT series, value FROM ops.indicator_values WHERE model = $1 ORDER BY taken_at, id`,
      [total],
    );
    expect(history.rows).toEqual([
      { series: {}, value: 3 },
      { series: {}, value: 2 },
      { series: {}, value: 1 },
    ]);

    // The crossings raised alerts, with what crossed.
    const { rows: alerts } = await pool.query(
      `SELECT severity, subject, title, details->'indicator' AS indicator FROM ops.alerts
       WHERE kind = 'threshold-crossed' AND subject = ANY($1) ORDER BY id`,
      [[perCity, total]],
    );
    expect(alerts.map((alert) => [alert.severity, alert.title])).toEqual([
      ['warning', `${perCity}.power went above 100 for 1 series`],
      ['warning', `${perCity}.power went above 100 for 1 series`],
      ['error', 'Almost no points left: 1 series crossed'],
    ]);
    expect(alerts[2].indicator).toEqual({
      model: total,
      measure: 'points',
      below: 2,
      crossings: [{ series: {}, label: null, value: 1, previous: 2 }],
    });
  });

  it('keeps no snapshot of a pass that published nothing', async () => {
    const before = (
      await pool.query('SELECT count(*)::int AS n FROM ops.indicator_values WHERE model = $1', [perCity])
    ).rows[0];
    await pool.query(`ALTER TABLE raw.${countsTable} RENAME COLUMN power TO watts`);
    try {
      const outcome = await runTransform({ pool, project: project() }, { datasets: [counts], runIds: [] });
      expect(outcome.status).toBe('failed');
    } finally {
      await pool.query(`ALTER TABLE raw.${countsTable} RENAME COLUMN watts TO power`);
    }
    expect(
      (await pool.query('SELECT count(*)::int AS n FROM ops.indicator_values WHERE model = $1', [perCity]))
        .rows[0],
    ).toEqual(before);
  });
});
