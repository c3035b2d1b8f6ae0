/**
 * Python and R models in a transform pass, run by the deployed runner functions (Lambda on the
 * local cloud, through the executor's Python and custom runtimes): types across the exchange,
 * SQL → Python → SQL and R in one DAG, data tests on their results, and their own errors
 * located in their files.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXCHANGE_PREFIX,
  lambdaRunners,
  migrate,
  parseModel,
  runTransform,
  type Model,
  type ModelExchange,
} from '@datacycle/core';
import { localClientConfig } from '../../localcloud/aws-clients';
import { localS3, readStackOutputs, testPool, uniqueName } from '../helpers/local-cloud';
import { testProject } from '../helpers/projects';

const pool = testPool();
const outputs = readStackOutputs();
const s3 = localS3();
const suffix = uniqueName('pr').replace(/-/g, '_');
const sensors = `sensors-${suffix.replace(/_/g, '-')}`;
const sensorsTable = sensors.replace(/-/g, '_');
const names = {
  clean: `clean_${suffix}`,
  rolling: `rolling_${suffix}`,
  latest: `latest_${suffix}`,
  summary: `summary_${suffix}`,
};
const exchange: ModelExchange = {
  s3,
  bucket: outputs.InternalBucket,
  prefix: `${EXCHANGE_PREFIX}${suffix}/`,
  runners: lambdaRunners(
    { python: outputs.PythonModelsFunctionName, r: outputs.RModelsFunctionName },
    new LambdaClient(localClientConfig()),
  ),
};

const model = (name: string, language: 'sql' | 'python' | 'r', lines: string[]): Model => {
  const extension = { sql: 'sql', python: 'py', r: 'R' }[language];
  const parsed = parseModel(name, `models/${name}.${extension}`, lines.join('\n'), language);
  if (!parsed.model) throw new Error(JSON.stringify(parsed.issues));
  return parsed.model;
};

const rollingPy = (body: string[]) =>
  model(names.rolling, 'python', [
    '"""',
    'inputs:',
    `  readings: ref('${names.clean}')`,
    'tests:',
    '  - not_null: mean_3',
    '"""',
    'import pandas as pd',
    '',
    'def model(readings: pd.DataFrame) -> pd.DataFrame:',
    ...body,
  ]);

const goodRolling = rollingPy([
  '    readings = readings.sort_values(["station", "measured_at"])',
  '    readings["mean_3"] = readings.groupby("station")["value"].transform(lambda s: s.rolling(3, min_periods=1).mean())',
  '    readings["day"] = readings["measured_at"].dt.date',
  '    readings["above"] = readings["value"] > 10',
  '    return readings',
]);

const summaryR = (body: string[]) =>
  model(names.summary, 'r', [
    '# inputs:',
    `#   readings: ref('${names.rolling}')`,
    '# tests:',
    '#   - unique: station',
    'model <- function(readings) {',
    ...body,
    '}',
  ]);

const goodSummary = summaryR([
  '  groups <- split(readings$value, readings$station)',
  '  data.frame(station = names(groups), n = vapply(groups, length, integer(1)),',
  '             median = vapply(groups, stats::median, numeric(1)), row.names = NULL)',
]);

function project(rolling = goodRolling, summary = goodSummary) {
  return testProject(
    [{ id: sensors, schema: { fields: [{ name: 'station' }] } }],
    [
      model(names.clean, 'sql', [
        '-- materialized: table',
        `SELECT station, value, measured_at, ok, position FROM {{ source('${sensors}') }} WHERE value IS NOT NULL`,
      ]),
      rolling,
      model(names.latest, 'sql', [
        '-- materialized: view',
        `SELECT station, max(day) AS last_day, bool_or(above) AS ever_above FROM {{ ref('${names.rolling}') }} GROUP BY station`,
      ]),
      summary,
    ],
  );
}

const pass = (built = project()) =>
  runTransform({ pool, project: built, exchange }, { datasets: [sensors], runIds: [] });

beforeAll(async () => {
  await migrate(pool);
  await pool.query(
    `CREATE TABLE raw.${sensorsTable} (station text, value numeric, measured_at timestamptz, ok boolean, position geometry(Point, 4326))`,
  );
  await pool.query(
    `INSERT INTO raw.${sensorsTable} VALUES
       ('A', 4, '2026-01-01T08:00:00Z', true, ST_SetSRID(ST_MakePoint(1.9, 47.9), 4326)),
       ('A', 8, '2026-01-02T08:00:00Z', false, NULL),
       ('A', 30, '2026-01-03T08:30:00Z', NULL, NULL),
       ('B', 1.5, '2026-01-01T09:00:00Z', true, NULL),
       ('B', NULL, '2026-01-02T09:00:00Z', true, NULL)`,
  );
});
afterAll(async () => {
  await pool.query(`DROP VIEW IF EXISTS enriched.${names.latest}`);
  for (const name of [names.summary, names.rolling, names.clean])
    await pool.query(`DROP TABLE IF EXISTS enriched.${name}`);
  await pool.query(`DROP TABLE IF EXISTS raw.${sensorsTable}`);
  await pool.end();
});

describe('Python and R models in a transform pass', () => {
  it('runs SQL → Python → SQL and R in one pass, types kept, tests run on their results', async () => {
    const outcome = await pass();
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('swapped-in');
    expect(outcome.tests.map((test) => [test.subject, test.status])).toEqual([
      [names.rolling, 'pass'],
      [names.summary, 'pass'],
    ]);

    const { rows: columns } = await pool.query(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'enriched' AND table_name = $1 ORDER BY ordinal_position`,
      [names.rolling],
    );
    expect(columns).toEqual([
      { column_name: 'station', data_type: 'text' },
      { column_name: 'value', data_type: 'double precision' },
      { column_name: 'measured_at', data_type: 'timestamp with time zone' },
      { column_name: 'ok', data_type: 'boolean' },
      // Geometries travel as EWKT text.
      { column_name: 'position', data_type: 'text' },
      { column_name: 'mean_3', data_type: 'double precision' },
      { column_name: 'day', data_type: 'date' },
      { column_name: 'above', data_type: 'boolean' },
    ]);
    const { rows } = await pool.query(
      `SELECT station, value, measured_at, ok, position, round(mean_3::numeric, 3)::float AS mean_3, day::text, above
       FROM enriched.${names.rolling} ORDER BY station, measured_at`,
    );
    expect(rows).toEqual([
      {
        station: 'A',
        value: 4,
        measured_at: new Date('2026-01-01T08:00:00Z'),
        ok: true,
        position: 'SRID=4326;POINT(1.9 47.9)',
        mean_3: 4,
        day: '2026-01-01',
        above: false,
      },
      {
        station: 'A',
        value: 8,
        measured_at: new Date('2026-01-02T08:00:00Z'),
        ok: false,
        position: null,
        mean_3: 6,
        day: '2026-01-02',
        above: false,
      },
      {
        station: 'A',
        value: 30,
        measured_at: new Date('2026-01-03T08:30:00Z'),
        ok: null,
        position: null,
        mean_3: 14,
        day: '2026-01-03',
        above: true,
      },
      {
        station: 'B',
        value: 1.5,
        measured_at: new Date('2026-01-01T09:00:00Z'),
        ok: true,
        position: null,
        mean_3: 1.5,
        day: '2026-01-01',
        above: false,
      },
    ]);
    expect((await pool.query(`SELECT * FROM enriched.${names.latest} ORDER BY station`)).rows).toEqual([
      { station: 'A', last_day: expect.any(Date), ever_above: true },
      { station: 'B', last_day: expect.any(Date), ever_above: false },
    ]);
    const { rows: summary } = await pool.query(`SELECT * FROM enriched.${names.summary} ORDER BY station`);
    expect(summary).toEqual([
      { station: 'A', n: '3', median: 8 },
      { station: 'B', n: '1', median: 1.5 },
    ]);
    // The exchanged files are gone once each model is stored.
    const { KeyCount } = await s3.send(
      new ListObjectsV2Command({ Bucket: exchange.bucket, Prefix: exchange.prefix }),
    );
    expect(KeyCount).toBe(0);
  });

  it("locates a Python model's error in its file, and keeps the published tables", async () => {
    const before = (await pool.query(`SELECT count(*)::int AS n FROM enriched.${names.rolling}`)).rows[0];
    const outcome = await pass(
      project(
        rollingPy(['    total = len(readings)', '    return readings.assign(share=1 / (total - total))']),
      ),
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(
      `model ${names.rolling} (models/${names.rolling}.py, line 11): ZeroDivisionError: division by zero`,
    );
    expect((await pool.query(`SELECT count(*)::int AS n FROM enriched.${names.rolling}`)).rows[0]).toEqual(
      before,
    );
  });

  it('says what a Python model returned when it is not a data frame', async () => {
    const outcome = await pass(project(rollingPy(['    return readings["value"].sum()'])));
    expect(outcome.error).toBe(
      `model ${names.rolling} (models/${names.rolling}.py): model() returned float64, not a pandas DataFrame`,
    );
  });

  it("locates an R model's error in its file", async () => {
    const outcome = await pass(
      project(goodRolling, summaryR(['  x <- 1', '  stop("no median for ", nrow(readings), " rows")'])),
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(
      `model ${names.summary} (models/${names.summary}.R, line 7): no median for 4 rows`,
    );
  });

  it('blocks publication when a test on a Python result fails', async () => {
    const outcome = await pass(
      project(
        rollingPy([
          '    day = readings["measured_at"].dt.date',
          '    return readings.assign(mean_3=float("nan"), day=day, above=False)',
        ]),
      ),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('blocked');
    expect(outcome.tests.find((test) => test.subject === names.rolling)).toMatchObject({
      kind: 'not_null',
      status: 'fail',
      failures: 4,
    });
  });
});
