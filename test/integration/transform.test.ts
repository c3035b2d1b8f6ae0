/** The transform engine on a real PostgreSQL (with PostGIS): build, test, publish or keep. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, parseModel, runTransform, type DataTest, type Model } from '@datacycle/core';
import { testPool, uniqueName } from '../helpers/local-cloud';
import { testProject } from '../helpers/projects';

const pool = testPool();
const suffix = uniqueName('t').replace(/-/g, '_');
const stations = `stations-${suffix.replace(/_/g, '-')}`;
const stationsTable = stations.replace(/-/g, '_');
const names = {
  points: `points_${suffix}`,
  perCity: `per_city_${suffix}`,
  listing: `listing_${suffix}`,
  history: `history_${suffix}`,
};

const model = (name: string, lines: string[]): Model => {
  const parsed = parseModel(name, `models/${name}.sql`, lines.join('\n'));
  if (!parsed.model) throw new Error(JSON.stringify(parsed.issues));
  return parsed.model;
};

function project(options: { cityTests?: string[]; pointsSql?: string; datasetTests?: DataTest[] } = {}) {
  const models = [
    model(names.points, [
      '-- materialized: table',
      '-- tests:',
      '--   - not_null: city',
      options.pointsSql ?? `SELECT id, city, power FROM {{ source('${stations}') }}`,
    ]),
    model(names.perCity, [
      '-- materialized: table',
      '-- tests:',
      '--   - unique: city',
      ...(options.cityTests ?? []),
      `SELECT city, count(*) AS points, sum(power) AS power FROM {{ ref('${names.points}') }} GROUP BY city`,
    ]),
    model(names.listing, ['-- materialized: view', `SELECT city, points FROM {{ ref('${names.perCity}') }}`]),
    model(names.history, [
      '-- materialized: incremental',
      '-- unique_key: id',
      `SELECT id, power FROM {{ source('${stations}') }}`,
    ]),
  ];
  return testProject(
    [{ id: stations, schema: { fields: [{ name: 'id' }] }, config: { tests: options.datasetTests ?? [] } }],
    models,
  );
}

const setRows = async (rows: [number, string | null, number][]) => {
  await pool.query(`TRUNCATE raw.${stationsTable}`);
  for (const row of rows) await pool.query(`INSERT INTO raw.${stationsTable} VALUES ($1, $2, $3)`, row);
};
const published = async (name: string) =>
  (await pool.query(`SELECT * FROM enriched.${name} ORDER BY 1`)).rows;

beforeAll(async () => {
  await migrate(pool);
  await pool.query(`CREATE TABLE raw.${stationsTable} (id int, city text, power numeric)`);
});
afterAll(async () => {
  for (const name of [names.listing]) await pool.query(`DROP VIEW IF EXISTS enriched.${name}`);
  for (const name of [names.perCity, names.points, names.history])
    await pool.query(`DROP TABLE IF EXISTS enriched.${name}`);
  await pool.query(`DROP TABLE IF EXISTS raw.${stationsTable}`);
  await pool.end();
});

describe('runTransform', () => {
  it('builds the models in order, tests them, and publishes them together', async () => {
    await setRows([
      [1, 'Orléans', 22],
      [2, 'Orléans', 50],
      [3, 'Tours', 7.4],
    ]);

    const outcome = await runTransform({ pool, project: project() }, { datasets: [stations], runIds: [] });

    expect(outcome).toMatchObject({ status: 'swapped-in', models: Object.values(names) });
    expect(outcome.tests.map((test) => `${test.test}:${test.status}`)).toEqual([
      'not_null(city):pass',
      'unique(city):pass',
    ]);
    expect(await published(names.listing)).toEqual([
      { city: 'Orléans', points: '2' },
      { city: 'Tours', points: '1' },
    ]);
    expect(await published(names.history)).toHaveLength(3);
  });

  it('keeps the published models when an error-level test fails, and says which rows', async () => {
    await setRows([
      [1, 'Orléans', 22],
      [4, null, 11],
    ]);

    const outcome = await runTransform({ pool, project: project() }, { datasets: [stations], runIds: [] });

    expect(outcome.status).toBe('blocked');
    // The view still reads the previous table: readers saw nothing of the failed pass.
    expect(await published(names.listing)).toEqual([
      { city: 'Orléans', points: '2' },
      { city: 'Tours', points: '1' },
    ]);
    expect(await published(names.history)).toHaveLength(3);
    const { rows: results } = await pool.query(
      'SELECT subject, test, status, failures, sample FROM ops.test_results WHERE transform_id = $1 AND status <> $2',
      [outcome.transformId, 'pass'],
    );
    expect(results).toEqual([
      {
        subject: names.points,
        test: 'not_null(city)',
        status: 'fail',
        failures: '1',
        sample: [{ id: 4, city: null, power: 11 }],
      },
    ]);
    const { rows: alerts } = await pool.query(
      "SELECT severity, title, message FROM ops.alerts WHERE kind = 'test-failed' AND details->>'transformId' = $1",
      [outcome.transformId],
    );
    expect(alerts).toEqual([
      {
        severity: 'error',
        title: expect.stringMatching(/^data tests failed: .* not published$/),
        message: `${names.points}: not_null(city) — 1 failing rows`,
      },
    ]);
  });

  it('publishes despite a warn-level failure, and tests the dataset itself', async () => {
    await setRows([[5, 'Blois', 3]]);

    const outcome = await runTransform(
      {
        pool,
        project: project({
          cityTests: ['--   - expression: power >= 10', '--     severity: warn'],
          datasetTests: [{ row_count: { min: 1 }, severity: 'error' }],
        }),
      },
      { datasets: [stations], runIds: [] },
    );

    expect(outcome.status).toBe('swapped-in');
    expect(
      outcome.tests.map(
        (test) => `${test.subject === stations ? 'dataset' : test.subject}/${test.test}:${test.status}`,
      ),
    ).toEqual([
      'dataset/row_count(1..):pass',
      `${names.points}/not_null(city):pass`,
      `${names.perCity}/unique(city):pass`,
      `${names.perCity}/expression(power >= 10):fail`,
    ]);
    expect(await published(names.listing)).toEqual([{ city: 'Blois', points: '1' }]);
    // Incremental: merged on its key, rows from earlier passes kept.
    expect((await published(names.history)).map((row) => row.id)).toEqual([1, 2, 3, 5]);
  });

  it('fails a model that does not compile with the file and line, and keeps everything', async () => {
    const outcome = await runTransform(
      {
        pool,
        project: project({
          pointsSql: `SELECT id, city,\n  power * nope AS power\nFROM {{ source('${stations}') }}`,
        }),
      },
      { datasets: [stations], runIds: [] },
    );

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(
      `model ${names.points} (models/${names.points}.sql, line 5): column "nope" does not exist`,
    );
    expect(await published(names.listing)).toEqual([{ city: 'Blois', points: '1' }]);
  });

  it('rolls back and throws for a retry when the database drops the connection mid-pass, then the retry closes the step', async () => {
    const runId = randomUUID();
    const slow = project({
      pointsSql: `SELECT id, city, power FROM {{ source('${stations}') }}, pg_sleep(3) AS nap`,
    });
    const pass = runTransform({ pool, project: slow }, { datasets: [stations], runIds: [runId] });
    // What a PostgreSQL restart does to the pass's backend: terminated, SQLSTATE 57P01.
    await expect
      .poll(
        async () =>
          (
            await pool.query(
              "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3) AS nap%' AND pid <> pg_backend_pid()",
            )
          ).rowCount,
        { timeout: 10_000, interval: 100 },
      )
      .toBe(1);

    await expect(pass).rejects.toThrow(/terminating connection/);
    const steps = async () =>
      (
        await pool.query<{ status: string; error: string }>(
          'SELECT status, error FROM ops.run_steps WHERE run_id = $1 ORDER BY id',
          [runId],
        )
      ).rows;
    // The step failed "will be retried"; the run is not judged, no model failure was alerted.
    expect(await steps()).toEqual([{ status: 'failed', error: expect.stringMatching(/will be retried$/) }]);
    const { rows: run } = await pool.query('SELECT status FROM ops.runs WHERE id = $1', [runId]);
    expect(run).toEqual([{ status: 'running' }]);
    expect(await published(names.listing)).toEqual([{ city: 'Blois', points: '1' }]);

    // An attempt that died without a word leaves its step running: the redelivered pass closes it.
    await pool.query("UPDATE ops.run_steps SET status = 'running', error = NULL WHERE run_id = $1", [runId]);
    const retry = await runTransform(
      { pool, project: project() },
      { datasets: [stations], runIds: [runId], redelivered: true },
    );
    expect(retry.status).toBe('swapped-in');
    expect(await steps()).toEqual([
      { status: 'failed', error: expect.stringMatching(/^interrupted: the transform function stopped/) },
      { status: 'succeeded', error: null },
    ]);
  });

  it('does nothing when no model reads the datasets that changed', async () => {
    const outcome = await runTransform({ pool, project: project() }, { datasets: ['other'], runIds: [] });

    expect(outcome).toMatchObject({ status: 'nothing-to-do', models: [] });
  });

  it("gathers the new data's statistics first (loads leave them to it), passing over a dataset never loaded", async () => {
    // A table filled anew has no statistics, as after a replace load.
    await pool.query(`DROP TABLE raw.${stationsTable}`);
    await pool.query(`CREATE TABLE raw.${stationsTable} (id int, city text, power numeric)`);
    await setRows([
      [1, 'Orléans', 22],
      [2, 'Blois', 11],
    ]);
    const statistics = async () =>
      (
        await pool.query<{ attname: string }>(
          `SELECT attname FROM pg_stats WHERE schemaname = 'raw' AND tablename = $1 ORDER BY attname`,
          [stationsTable],
        )
      ).rows.map((row) => row.attname);
    expect(await statistics()).toEqual([]);

    const withUnloaded = project();
    withUnloaded.datasets.push({
      ...withUnloaded.datasets[0]!,
      id: `never-loaded-${suffix.replace(/_/g, '-')}`,
    });
    const outcome = await runTransform(
      { pool, project: withUnloaded },
      { datasets: [], runIds: [], all: true },
    );

    expect(outcome.status).toBe('swapped-in');
    expect(await statistics()).toEqual(['city', 'id', 'power']);
  });
});
