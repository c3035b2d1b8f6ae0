/**
 * Indicator history and thresholds in transform passes, on a real PostgreSQL; the pass's
 * OpenLineage events, sent to an HTTP endpoint and kept in the bucket of the local cloud.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, parseModel, runTransform, type Model, type Project, type RunEvent } from '@datacycle/core';
import { validateOpenLineage } from '../helpers/conformance';
import { startServer } from '../helpers/http-server';
import { localS3, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, testProject } from '../helpers/projects';

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

  it('times a pass once it holds the transform lock: after the pass it waited for committed', async () => {
    // Another pass holds the lock; ours begins its transaction and waits. Timed at its
    // transaction's start, its values would come before those of the pass it waited for,
    // and a client paging the history by time past that pass would never see them.
    const holder = await pool.connect();
    let released: Date;
    let outcome: Awaited<ReturnType<typeof load>>;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtext('datacycle:transform'))`);
      const { rows: held } = await holder.query<{ at: Date }>('SELECT clock_timestamp() AS at');
      const waiting = load([['orleans', 1]]);
      // Until a transaction begun after the lock was taken waits for it (ours, or another
      // test's pass, in which case ours begins later and the assertion holds all the same).
      for (let tries = 0; ; tries++) {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND xact_start > $1`,
          [held[0]!.at],
        );
        if (rows[0]!.n > 0) break;
        if (tries > 200) throw new Error('the pass never waited for the transform lock');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      released = (await holder.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at;
      await holder.query('COMMIT');
      outcome = await waiting;
    } finally {
      holder.release();
    }
    expect(outcome.status).toBe('swapped-in');
    const { rows: taken } = await pool.query<{ taken_at: Date }>(
      'SELECT DISTINCT taken_at FROM ops.indicator_values WHERE transform_id = $1',
      [outcome.transformId],
    );
    expect(taken).toHaveLength(1);
    expect(taken[0]!.taken_at.getTime()).toBeGreaterThanOrEqual(released.getTime());
  });

describe('OpenLineage events of a pass', () => {
  it('posts them to the configured endpoint and keeps them in the bucket; FAIL says why; a refusing endpoint loses nothing', async () => {
    const s3 = localS3();
    const buckets = await createTestBuckets(s3, uniqueName('ol'));
    const received: RunEvent[] = [];
    let refuse = false;
    const endpoint = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/api/v1/lineage' && req.headers['content-type'] === 'application/json')
          received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunEvent);
        res.writeHead(refuse ? 500 : 201).end();
      });
    });
    const lineage = {
      s3,
      bucket: buckets.internal,
      url: `${endpoint.url}/api/v1/lineage`,
      network: { allow: ['127.0.0.1/32'] },
    };
    const stored = async () => {
      const { Contents = [] } = await s3.send(
        new ListObjectsV2Command({ Bucket: buckets.internal, Prefix: 'lineage/' }),
      );
      return Promise.all(
        Contents.map(
          async (object) =>
            JSON.parse(
              await (
                await s3.send(new GetObjectCommand({ Bucket: buckets.internal, Key: object.Key! }))
              ).Body!.transformToString(),
            ) as RunEvent,
        ),
      );
    };
    try {
      await pool.query(`TRUNCATE raw.${countsTable}`);
      await pool.query(`INSERT INTO raw.${countsTable} VALUES ('orleans', 22), ('tours', 7)`);
      const outcome = await runTransform(
        { pool, project: project(), lineage },
        { datasets: [counts], runIds: [] },
      );
      expect(outcome.status).toBe('swapped-in');
      // A START and a COMPLETE for each model; valid against the specification's schemas.
      expect(received.map((event) => `${event.job.name} ${event.eventType}`).sort()).toEqual(
        [
          `transform.${perCity} COMPLETE`,
          `transform.${perCity} START`,
          `transform.${total} COMPLETE`,
          `transform.${total} START`,
        ].sort(),
      );
      expect(await validateOpenLineage(received)).toEqual([]);
      const sorted = (events: RunEvent[]) => events.map((event) => JSON.stringify(event)).sort();
      expect(sorted(await stored())).toEqual(sorted(received));
      const complete = received.find(
        (event) => event.job.name === `transform.${perCity}` && event.eventType === 'COMPLETE',
      )!;
      expect(complete.inputs).toEqual([{ namespace: 'datacycle/itest', name: `raw.${countsTable}` }]);
      expect(complete.outputs[0]).toMatchObject({
        name: `enriched.${perCity}`,
        outputFacets: { outputStatistics: { rowCount: 2 } },
        facets: {
          columnLineage: {
            fields: {
              city: {
                inputFields: [{ namespace: 'datacycle/itest', name: `raw.${countsTable}`, field: 'city' }],
              },
              power: {
                inputFields: [{ namespace: 'datacycle/itest', name: `raw.${countsTable}`, field: 'power' }],
              },
            },
          },
        },
      });

      // A model that does not build: FAIL events with the error; the endpoint refusing them
      // does not fail the pass's outcome, and the bucket keeps them.
      received.length = 0;
      refuse = true;
      await pool.query(`ALTER TABLE raw.${countsTable} RENAME COLUMN power TO watts`);
      try {
        const failed = await runTransform(
          { pool, project: project(), lineage },
          { datasets: [counts], runIds: [] },
        );
        expect(failed.status).toBe('failed');
        const fail = received.find(
          (event) => event.job.name === `transform.${perCity}` && event.eventType === 'FAIL',
        )!;
        expect(fail.run.facets).toMatchObject({ errorMessage: { message: failed.error } });
        expect(await validateOpenLineage(received)).toEqual([]);
        expect((await stored()).filter((event) => event.eventType === 'FAIL')).toHaveLength(2);
      } finally {
        await pool.query(`ALTER TABLE raw.${countsTable} RENAME COLUMN watts TO power`);
      }
    } finally {
      await endpoint.close();
    }
  });
});
