/**
 * Load → transform → tests → publish through the deployed stack, in one run: a drop is
 * loaded, its dataset.loaded event reaches the transform queue, the transform function
 * rebuilds the models downstream and publishes them, or keeps the previous ones and alerts
 * when a test fails.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RunEvent } from '@datacycle/core';
import { irveExample } from '../helpers/projects';
import {
  readGeoParquet,
  validateDataPackage,
  validateDcatAp,
  validateOpenLineage,
} from '../helpers/conformance';

async function readBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Body!.transformToByteArray();
}
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveAlerts, type AlertReceiver } from '../../localcloud/alert-receiver';
import {
  ensureDepartements,
  eventually,
  localS3,
  objectExists,
  readText,
  readStackOutputs,
  recordedFile,
  runSteps,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';

const example = irveExample;
const outputs = readStackOutputs();
const s3 = localS3();
const pool = testPool();
let receiver: AlertReceiver;

/** The example's two charging points, moved to `[lon,lat]` and made unique by `marker`. */
const pointsAt = (lonLat: string, marker: string) =>
  example.replace(/\[7\.48710500,48\.345345\]/g, lonLat).replace(/Picpus/g, `Picpus ${marker}`);

async function dropAndTransform(body: string) {
  const key = `irve-statique/${uniqueName('tr')}.csv`;
  await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
  const file = await recordedFile(pool, key);
  expect(file.status).toBe('loaded');
  const step = await eventually(
    async () => {
      const { rows } = await pool.query(
        "SELECT status, error, details FROM ops.run_steps WHERE run_id = $1 AND step = 'transform' AND status <> 'running'",
        [file.run_id],
      );
      return rows[0] as
        { status: string; error: string | null; details: { transformId: string } } | undefined;
    },
    90_000,
    `the transform step of run ${file.run_id}`,
  );
  return { runId: file.run_id, step };
}

const pointsIn = async (code: string) =>
  Number(
    (
      await pool.query(
        'SELECT points_de_recharge FROM enriched.irve_par_departement WHERE code_departement = $1',
        [code],
      )
    ).rows[0]?.points_de_recharge ?? -1,
  );

beforeAll(async () => {
  await ensureDepartements(pool);
  receiver = await receiveAlerts();
});
afterAll(async () => {
  // Leave the example's own file loaded and its indicators published, as the demo expects.
  await dropAndTransform(example).catch(() => undefined);
  await receiver.close();
  await pool.end();
});

/** A value deep in a JSON document (undefined when the path is not there). */
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);

/** The OpenLineage events the stack wrote to its internal bucket since `since`. */
async function lineageEventsSince(since: Date): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: outputs.InternalBucket,
        Prefix: `lineage/${since.toISOString().slice(0, 10)}/`,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? [])
      if (object.LastModified && object.LastModified.getTime() >= since.getTime() - 1000)
        events.push(JSON.parse(await readText(s3, outputs.InternalBucket, object.Key!)) as RunEvent);
    token = page.NextContinuationToken;
  } while (token);
  return events;
}

describe('load → transform → tests → publish, on the deployed stack', () => {
  it('publishes the indicators of a dropped file, in the run of its load', async () => {
    // Orléans: two points in the Loiret (45).
    const started = new Date();
    const marker = uniqueName('orleans');
    const { runId, step } = await dropAndTransform(pointsAt('[1.909251,47.902964]', marker));

    expect(step).toMatchObject({ status: 'succeeded', error: null });
    expect(await pointsIn('45')).toBe(2);
    expect(await pointsIn('67')).toBe(0);
    // The Python model (pandas, on the Python runtime) and the R model (custom runtime), in the
    // same pass: both points were put into service in January 2020, both at 22 kW.
    expect(
      (
        await pool.query(
          `SELECT mois::text, mises_en_service::int, cumul::int, moyenne_3_mois
           FROM enriched.irve_mises_en_service WHERE code_departement = '45'`,
        )
      ).rows,
    ).toEqual([{ mois: '2020-01-01', mises_en_service: 2, cumul: 2, moyenne_3_mois: 2 }]);
    expect(
      (
        await pool.query(
          "SELECT points, moyenne_kw, mediane_kw, max_kw FROM enriched.irve_puissance_resume WHERE code_departement = '45'",
        )
      ).rows,
    ).toEqual([{ points: '2', moyenne_kw: 22, mediane_kw: 22, max_kw: 22 }]);
    // And the SQL view on the Python model's result.
    expect(
      (
        await pool.query(
          "SELECT count(*)::int AS n FROM enriched.irve_tendance_recente WHERE code_departement = '45'",
        )
      ).rows,
    ).toEqual([{ n: 1 }]);
    // OpenLineage: a START and a COMPLETE per model and per tested relation, valid against
    // the specification's schemas; schema, statistics and (SQL) column lineage on the outputs.
    const jobs = [
      'transform.irve_points',
      'transform.irve_mises_en_service',
      'transform.irve_puissance_resume',
      'transform.irve_par_departement',
      'test.irve_points',
      'test.irve-statique',
    ];
    // (Written once the pass is recorded: they may land a moment after the step.)
    const lineage = await eventually(
      async () => {
        const events = (await lineageEventsSince(started)).filter(
          (event) => Date.parse(event.eventTime) >= started.getTime() - 1000,
        );
        const done = jobs.every((job) =>
          events.some((event) => event.job.name === job && event.eventType === 'COMPLETE'),
        );
        return done ? events : undefined;
      },
      30_000,
      'the lineage events of the pass',
    );
    expect(await validateOpenLineage(lineage)).toEqual([]);
    const complete = (job: string) =>
      lineage.find((event) => event.job.name === job && event.eventType === 'COMPLETE');
    for (const job of jobs) {
      expect(complete(job), job).toBeDefined();
      expect(
        lineage.some((event) => event.job.name === job && event.eventType === 'START'),
        job,
      ).toBe(true);
    }
    const indicator = complete('transform.irve_par_departement')!;
    expect(indicator.inputs.map((input) => input.name).sort()).toEqual([
      'enriched.irve_points',
      'raw.departements',
    ]);
    expect(indicator.outputs.map((output) => output.name)).toEqual(['enriched.irve_par_departement']);
    expect(at(indicator, 'outputs', 0, 'outputFacets', 'outputStatistics', 'rowCount')).toBe(96);
    expect(at(indicator, 'outputs', 0, 'facets', 'schema', 'fields', 2, 'name')).toBe('points_de_recharge');
    expect(
      at(indicator, 'outputs', 0, 'facets', 'columnLineage', 'fields', 'points_de_recharge', 'inputFields'),
    ).toEqual([expect.objectContaining({ name: 'enriched.irve_points', field: 'id_pdc_itinerance' })]);
    expect(at(complete('transform.irve_mises_en_service'), 'job', 'facets', 'jobType', 'jobType')).toBe(
      'MODEL_PYTHON',
    );
    const assertions = at(
      complete('test.irve_points'),
      'inputs',
      0,
      'inputFacets',
      'dataQualityAssertions',
      'assertions',
    );
    expect(assertions).toHaveLength(3);
    expect(assertions).toEqual(expect.arrayContaining([expect.objectContaining({ success: true })]));
    // Then the publish step: the dataset and the models it rebuilt, in every format.
    const published = await eventually(
      async () =>
        (
          await pool.query(
            "SELECT status, details FROM ops.run_steps WHERE run_id = $1 AND step = 'publish' AND status <> 'running'",
            [runId],
          )
        ).rows[0] as
          { status: string; details: { outputs: { name: string; files: string[] }[] } } | undefined,
      60_000,
      'the publish step',
    );
    expect(published.status).toBe('succeeded');
    // The load's and the publication's lineage too: the ingest run is the datacycle run.
    const around = await eventually(
      async () => {
        const events = await lineageEventsSince(started);
        const ingest = events.find(
          (event) => event.job.name === 'ingest.irve-statique' && event.run.runId === runId,
        );
        const publish = events.find(
          (event) => event.job.name === 'publish.irve_par_departement' && event.eventType === 'COMPLETE',
        );
        return ingest && publish
          ? events.filter((event) => [ingest.job.name, publish.job.name].includes(event.job.name))
          : undefined;
      },
      30_000,
      'the ingest and publish lineage events',
    );
    expect(await validateOpenLineage(around)).toEqual([]);
    const ingestDone = around.find(
      (event) => event.job.name === 'ingest.irve-statique' && event.eventType === 'COMPLETE',
    )!;
    expect(ingestDone.outputs.map((output) => output.name)).toEqual(['raw.irve_statique']);
    expect(at(ingestDone, 'outputs', 0, 'outputFacets', 'outputStatistics', 'rowCount')).toBe(2);
    const publishDone = around.find(
      (event) => event.job.name === 'publish.irve_par_departement' && event.eventType === 'COMPLETE',
    )!;
    expect(publishDone.inputs.map((input) => input.name)).toEqual(['enriched.irve_par_departement']);
    expect(publishDone.outputs.map((output) => output.name.split('/').pop())).toEqual(
      expect.arrayContaining(['irve_par_departement.csv', 'irve_par_departement.parquet']),
    );
    // (A load of another dataset may share the pass: the schedules fire by themselves too.)
    expect(published.details.outputs.map((output) => output.name)).toEqual(
      expect.arrayContaining([
        'irve-statique',
        'irve_points',
        'irve_par_departement',
        'irve_mises_en_service',
        'irve_puissance_resume',
      ]),
    );
    const latest = (name: string, format: string) =>
      readText(s3, outputs.PublicBucket, `exports/${name}/latest/${name}.${format}`);
    expect(await latest('irve-statique', 'csv')).toContain(`Picpus ${marker}`);
    expect(await latest('irve_par_departement', 'csv')).toMatch(/\n45,Loiret,2,2,44\n/);
    // No geometry in the indicator: no GeoJSON there; the points have one.
    for (const key of [
      'irve_par_departement/latest/irve_par_departement.xlsx',
      'irve_par_departement/latest/irve_par_departement.parquet',
      'irve_points/latest/irve_points.geojson',
    ])
      expect(await objectExists(s3, outputs.PublicBucket, `exports/${key}`), key).toBe(true);
    expect(
      await objectExists(
        s3,
        outputs.PublicBucket,
        'exports/irve_par_departement/latest/irve_par_departement.geojson',
      ),
    ).toBe(false);
    const datapackage = JSON.parse(
      await readText(s3, outputs.PublicBucket, 'exports/irve-statique/latest/datapackage.json'),
    ) as { name: string; resources: { format: string }[] };
    // The formats the dataset declares, in its order.
    expect(datapackage.resources.map((resource) => resource.format)).toEqual([
      'csv',
      'geojson',
      'xlsx',
      'parquet',
    ]);
    // Each data package the stack published, with its files, passes frictionless-py.
    for (const name of ['irve-statique', 'irve_points', 'irve_par_departement']) {
      const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
      const latest = `exports/${name}/latest`;
      const text = await readText(s3, outputs.PublicBucket, `${latest}/datapackage.json`);
      writeFileSync(path.join(dir, 'datapackage.json'), text);
      for (const resource of (JSON.parse(text) as { resources: { path: string }[] }).resources)
        writeFileSync(
          path.join(dir, resource.path),
          await readBytes(s3, outputs.PublicBucket, `${latest}/${resource.path}`),
        );
      const verdict = await validateDataPackage(path.join(dir, 'datapackage.json'));
      expect(verdict.errors, name).toEqual([]);
      expect(verdict.valid, name).toBe(true);
    }
    // The points' Parquet export is GeoParquet that GeoPandas reads, every point inside its bbox.
    const pointsDir = mkdtempSync(path.join(tmpdir(), 'irve_points-'));
    const pointsFile = path.join(pointsDir, 'irve_points.parquet');
    writeFileSync(
      pointsFile,
      await readBytes(s3, outputs.PublicBucket, 'exports/irve_points/latest/irve_points.parquet'),
    );
    const points = await readGeoParquet(pointsFile);
    expect(points.crs).toBe('OGC:CRS84');
    expect(points.geo.columns.geometrie).toMatchObject({ encoding: 'WKB', geometry_types: ['Point'] });
    expect(points.wkt.length).toBeGreaterThan(0);
    expect(points.geo.columns.geometrie!.bbox).toEqual(points.totalBounds);
    // And the catalog, updated at the same publication.
    const catalog = JSON.parse(await readText(s3, outputs.PublicBucket, 'catalog/catalog.jsonld')) as {
      'dcat:dataset': {
        'dct:identifier': string;
        'dcat:distribution': { 'dcat:downloadURL': { '@id': string } }[];
      }[];
    };
    const entry = catalog['dcat:dataset'].find((dataset) => dataset['dct:identifier'] === 'irve-statique')!;
    expect(entry['dcat:distribution'].map((d) => d['dcat:downloadURL']['@id'])).toContain(
      `http://127.0.0.1:4566/${outputs.PublicBucket}/exports/irve-statique/latest/irve-statique.csv`,
    );
    // Both forms pass the DCAT-AP 3.0.0 SHACL shapes (pyshacl): not one violation, nor a warning.
    for (const [key, format] of [
      ['catalog/catalog.jsonld', 'json-ld'],
      ['catalog/catalog.ttl', 'turtle'],
    ] as const) {
      const shacl = await validateDcatAp(await readText(s3, outputs.PublicBucket, key), format);
      expect(shacl.results, key).toEqual([]);
      expect(shacl.conforms).toBe(true);
      expect(shacl.triples).toBeGreaterThan(300);
    }
    // The validator does see a broken catalog: themes without their label are refused.
    const unlabelled = (await readText(s3, outputs.PublicBucket, 'catalog/catalog.jsonld')).replace(
      /"skos:prefLabel"/g,
      '"skos:altLabel"',
    );
    const refused = await validateDcatAp(unlabelled, 'json-ld');
    expect(refused.conforms).toBe(false);
    expect(refused.results.map((result) => result.path)).toContain(
      'http://www.w3.org/2004/02/skos/core#prefLabel',
    );
    expect(await runSteps(pool, runId)).toEqual([
      { step: 'ingest', status: 'succeeded' },
      { step: 'transform', status: 'succeeded' },
      { step: 'publish', status: 'succeeded' },
    ]);
    const { rows: tests } = await pool.query(
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'pass')::int AS failing FROM ops.test_results WHERE transform_id = $1",
      [step.details.transformId],
    );
    // irve-statique's 2 tests and the 15 of its 5 models: SQL 3 + 5 + 1, Python 3, R 3
    // (departements did not change).
    expect(tests).toEqual([{ n: 17, failing: 0 }]);
  });

  it('keeps the published indicators when a test fails, and alerts the channel', async () => {
    // 0,0 lies in no département: irve_points.not_null(code_departement) fails.
    const { runId, step } = await dropAndTransform(pointsAt('[0,0]', uniqueName('nowhere')));

    expect(step.status).toBe('failed');
    expect(step.error).toMatch(
      /^publication blocked by failed tests: irve_points: not_null\(code_departement\) — 2 failing rows/,
    );
    expect(await pointsIn('45')).toBe(2);
    // Nothing published: latest/ still holds the previous data.
    expect(
      await readText(s3, outputs.PublicBucket, 'exports/irve-statique/latest/irve-statique.csv'),
    ).not.toContain('nowhere');
    const alert = await eventually(
      async () => receiver.received.find((message) => message.text.includes(runId)),
      60_000,
      'the test-failed alert at the webhook',
    );
    expect(alert.text).toContain(
      'data tests failed: irve_points, irve_mises_en_service, irve_par_departement, irve_puissance_resume, irve_tendance_recente not published',
    );
    const { rows: runs } = await pool.query('SELECT status FROM ops.runs WHERE id = $1', [runId]);
    expect(runs).toEqual([{ status: 'failed' }]);
  });

  it('coalesces a burst of drops into one transform pass', async () => {
    const runs = await Promise.all(
      ['[1.909251,47.902964]', '[1.909252,47.902964]', '[1.909253,47.902964]'].map((point) =>
        dropAndTransform(pointsAt(point, uniqueName('burst'))),
      ),
    );

    const passes = new Set(runs.map((run) => run.step.details.transformId));
    expect(runs.map((run) => run.step.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(passes.size).toBe(1);
  });
});
