/**
 * The read API of the deployed stack (function URL on LocalStack), checked against its own
 * OpenAPI document: every answer's status is documented and its body matches the documented
 * schema; filters, order and keyset pagination agree with the database; hostile inputs get
 * 4xx problems.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import Papa from 'papaparse';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import {
  sharedSecret,
  callApi,
  ensureDepartements,
  eventually,
  localS3,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
  type ApiAnswer,
} from '../helpers/local-cloud';
import { irveExample } from '../helpers/projects';

const outputs = readStackOutputs();
const pool = testPool();
const s3 = localS3();
type Document = {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string }[];
        responses: Record<string, { content?: Record<string, { schema: object }> }>;
      }
    >
  >;
  components: { schemas: Record<string, object> };
};
let document: Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
ajv.addFormat('uuid', /^[0-9a-f-]{36}$/i);
ajv.addFormat('uri', (value: string) => URL.canParse(value));
ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);

/** The documented operation for a concrete path (`/runs/123` → `/runs/{id}`). */
function operation(path: string, method = 'get') {
  const template = Object.keys(document.paths).find((candidate) =>
    new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(path),
  );
  if (!template) throw new Error(`${path} is not in the OpenAPI document`);
  return document.paths[template]![method]!;
}

/** Calls the API and checks the answer against the document; returns it. */
async function checked(
  pathAndQuery: string,
  options: Parameters<typeof callApi>[2] = {},
): Promise<ApiAnswer> {
  const answer = await callApi(outputs.ApiUrl, pathAndQuery, options);
  const documented = operation(pathAndQuery.split('?')[0]!, (options.method ?? 'GET').toLowerCase());
  const response = documented.responses[String(answer.status)];
  expect(
    response,
    `${answer.status} of ${pathAndQuery} is documented (${answer.text.slice(0, 200)})`,
  ).toBeDefined();
  const type = String(answer.headers['content-type'] ?? '').split(';')[0]!;
  const schema = response!.content?.[type]?.schema;
  if (response!.content) expect(schema, `${type} of ${pathAndQuery} is documented`).toBeDefined();
  if (schema && type !== 'text/csv') {
    const validate = ajv.compile({
      ...schema,
      components: document.components,
      $id: `https://schemas.test/${++compiled}`,
    });
    const body = answer.json();
    expect(validate(body), `${pathAndQuery}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return answer;
}

let compiled = 0;
const rowsOf = (answer: ApiAnswer) =>
  answer.json<{ data: Record<string, unknown>[]; links: { next: string | null } }>();
const pathOf = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

beforeAll(async () => {
  await ensureDepartements(pool);
  // The example file, loaded (or already there), then once more (a duplicate): the rows the
  // assertions read, and at least two runs to page through.
  for (const name of ['api', 'api-again']) {
    const key = `irve-statique/${uniqueName(name)}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: irveExample }));
    expect(['loaded', 'duplicate']).toContain((await recordedFile(pool, key)).status);
  }
  // On a fresh stack, the transform the load triggered builds the model the API then lists.
  await eventually(
    async () =>
      (await pool.query("SELECT to_regclass('enriched.irve_par_departement') AS model")).rows[0].model
        ? true
        : undefined,
    90_000,
    'the model irve_par_departement',
  );
  document = (await callApi(outputs.ApiUrl, '/openapi.json')).json<Document>();
});
afterAll(() => pool.end());

describe('the read API, against its own OpenAPI document', () => {
  it("describes itself as OpenAPI 3.1, with each dataset's own filters", async () => {
    const answer = await checked('/openapi.json');
    expect(answer.json<{ openapi: string }>().openapi).toBe('3.1.0');
    const parameters = operation('/datasets/irve-statique/rows').parameters!.map((p) => p.name);
    expect(parameters).toEqual(
      expect.arrayContaining([
        'limit',
        'cursor',
        'order',
        'format',
        'bbox',
        'nom_station__contains',
        'date_mise_en_service__gte',
        'puissance_nominale__lte',
      ]),
    );
    expect(parameters).not.toContain('coordonneesXY');
  });

  it('lists the datasets and models, and describes one', async () => {
    const list = (await checked('/datasets')).json<{ data: { id: string }[] }>();
    expect(list.data.map((d) => d.id)).toEqual(
      expect.arrayContaining(['irve-statique', 'departements', 'irve_par_departement']),
    );
    const one = (await checked('/datasets/irve-statique')).json<{
      rows: number;
      spatial: boolean;
      fields: { name: string; filters: string[] }[];
    }>();
    expect(one.spatial).toBe(true);
    expect(one.rows).toBe(Number((await pool.query('SELECT count(*) FROM raw.irve_statique')).rows[0].count));
    expect(one.fields.find((f) => f.name === 'coordonneesXY')!.filters).toEqual([]);
    await checked('/datasets/irve-statique/schema');
    await checked('/catalog');
  });

  it('filters, orders and pages through the rows; every row once', async () => {
    const { rows: expected } = await pool.query<{ id: string }>(
      `SELECT id_pdc_itinerance AS id FROM raw.irve_statique WHERE date_mise_en_service >= '2020-01-01' ORDER BY id_pdc_itinerance`,
    );
    const seen: string[] = [];
    let next: string | null =
      `/datasets/irve-statique/rows?date_mise_en_service__gte=2020-01-01&order=id_pdc_itinerance&limit=1&fields=id_pdc_itinerance`;
    while (next) {
      const page = rowsOf(await checked(next));
      seen.push(...page.data.map((row) => row.id_pdc_itinerance as string));
      next = page.links.next ? pathOf(page.links.next) : null;
    }
    expect(seen).toEqual(expected.map((row) => row.id));

    // Descending on a nullable column, over the 96 départements, two pages.
    const first = rowsOf(
      await checked('/datasets/irve_par_departement/rows?order=-points_de_recharge,nom_departement&limit=50'),
    );
    const second = rowsOf(await checked(pathOf(first.links.next!)));
    const names = [...first.data, ...second.data].map((row) => row.nom_departement);
    expect(names).toHaveLength(96);
    expect(new Set(names).size).toBe(96);
    expect(second.links.next).toBeNull();

    const filtered = rowsOf(
      await checked(
        '/datasets/irve_par_departement/rows?code_departement__in=45,67,2A&nom_departement__contains=RHIN',
      ),
    );
    expect(filtered.data.map((row) => row.code_departement)).toEqual(['67']);
  });

  it('answers CSV and GeoJSON, and selects by bounding box', async () => {
    const csv = await checked(
      '/datasets/irve-statique/rows?format=csv&fields=id_pdc_itinerance,coordonneesXY&limit=5',
    );
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const parsed = Papa.parse<string[]>(csv.text.trim());
    expect(parsed.data[0]).toEqual(['id_pdc_itinerance', 'coordonneesXY']);
    expect(parsed.data[1]![1]).toMatch(/^\[7\.48\d*,48\.34\d*\]$/);

    const inAlsace = (await checked('/datasets/irve-statique/rows?format=geojson&bbox=7,48,8,49')).json<{
      type: string;
      features: { geometry: { type: string } }[];
    }>();
    expect(inAlsace.type).toBe('FeatureCollection');
    expect(inAlsace.features.length).toBeGreaterThan(0);
    expect(inAlsace.features[0]!.geometry.type).toBe('Point');
    const inBrittany = (await checked('/datasets/irve-statique/rows?format=geojson&bbox=-5,47,-1,49')).json<{
      features: unknown[];
    }>();
    expect(inBrittany.features).toEqual([]);
    // West > east: the box crosses the antimeridian, everything but the 7°E–8°E strip.
    const aroundTheWorld = (
      await checked('/datasets/irve-statique/rows?format=geojson&bbox=8,48,7,49')
    ).json<{ features: unknown[] }>();
    expect(aroundTheWorld.features).toEqual([]);
    const acrossTheAntimeridian = (
      await checked('/datasets/irve-statique/rows?format=geojson&bbox=7.1,48,7,49')
    ).json<{ features: unknown[] }>();
    expect(acrossTheAntimeridian.features.length).toBe(inAlsace.features.length);
  });

  it('gives runs, with their steps and files', async () => {
    const runs = (await checked('/runs?dataset=irve-statique&limit=2')).json<{
      data: { id: string }[];
      links: { next: string | null };
    }>();
    expect(runs.data).toHaveLength(2);
    if (runs.links.next) await checked(pathOf(runs.links.next));
    const run = (await checked(`/runs/${runs.data[0]!.id}`)).json<{ steps: unknown[]; files: unknown[] }>();
    expect(run.steps.length).toBeGreaterThan(0);
    await checked('/runs/0f0f0f0f-0000-4000-8000-000000000000');
  });

  it('redacts the credentials an error may carry, unless the caller sends the API key', async () => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO ops.runs (id, trigger, dataset, status, started_at, finished_at, error)
       VALUES (gen_random_uuid(), 'schedule', 'irve-statique', 'failed', now() - interval '1 second', now(), $1) RETURNING id`,
      ['GET https://partner:pa55@api.example.org/bornes?apikey=S3CRET&page=2: HTTP 500'],
    );
    const id = rows[0]!.id;
    try {
      const anonymous = (await checked(`/runs/${id}`)).json<{ error: string }>();
      expect(anonymous.error).toBe('GET https://***@api.example.org/bornes?apikey=***&page=2: HTTP 500');
      const listed = (await checked('/runs?dataset=irve-statique&status=failed&limit=5')).json<{
        data: { id: string; error: string }[];
      }>();
      expect(listed.data.find((run) => run.id === id)?.error).not.toContain('S3CRET');
      const key = await sharedSecret(outputs.ApiKeySecretArn);
      const full = (await checked(`/runs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json<{
        error: string;
      }>();
      expect(full.error).toContain('apikey=S3CRET');
      expect((await checked(`/runs/${id}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    } finally {
      await pool.query('DELETE FROM ops.runs WHERE id = $1', [id]);
    }
  });

  it.each([
    [
      'SQL in a value is a value',
      `/datasets/irve-statique/rows?nom_station=${encodeURIComponent("x' OR '1'='1")}`,
      200,
    ],
    [
      'SQL in a field name',
      `/datasets/irve-statique/rows?${encodeURIComponent('nom_station;DROP TABLE raw.irve_statique;--')}=1`,
      400,
    ],
    ['an unknown field', '/datasets/irve-statique/rows?nope=1', 400],
    ['an unknown operator', '/datasets/irve-statique/rows?nom_station__like=a', 400],
    ['a number that is not one', '/datasets/irve-statique/rows?puissance_nominale__gte=1e999x', 400],
    ['a date out of range', '/datasets/irve-statique/rows?date_mise_en_service=2024-13-45', 400],
    ['a huge limit', '/datasets/irve-statique/rows?limit=100000000', 400],
    ['a malformed cursor', '/datasets/irve-statique/rows?cursor=not%20a%20cursor', 400],
    // Well-formed, but given by no page of this listing: no such page.
    ['a forged cursor', '/datasets/irve-statique/rows?cursor=not-a-cursor', 404],
    [
      'a cursor of another order',
      `/datasets/irve-statique/rows?cursor=${Buffer.from(JSON.stringify({ o: 'x', v: ['a'] })).toString('base64url')}`,
      404,
    ],
    ['ordering on a geometry', '/datasets/irve-statique/rows?order=coordonneesXY', 400],
    ['a bbox off the globe', '/datasets/irve-statique/rows?bbox=8,49,7,91', 400],
    ['GeoJSON of a table without geometry', '/datasets/irve_par_departement/rows?format=geojson', 400],
    ['an unknown dataset', '/datasets/..%2F..%2Fetc', 404],
    ['an unknown run parameter', '/runs?sort=asc', 400],
    ['a run id that is no UUID', "/runs/1'%20OR%201=1", 400],
  ])('%s → %s', async (_what, path, status) => {
    const answer = await checked(path);
    expect(answer.status).toBe(status);
    if (status >= 400) expect(answer.headers['content-type']).toBe('application/problem+json');
    if (status === 200) expect(rowsOf(answer).data).toEqual([]);
  });

  it('refuses other methods and guards subscriptions with the key', async () => {
    const answer = await callApi(outputs.ApiUrl, '/datasets', { method: 'DELETE' });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET');
    expect((await checked('/subscriptions')).status).toBe(401);
    expect((await checked('/subscriptions', { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
  });
});

describe('indicator history, through drops and the read API', () => {
  /** The example's two points at `[lon,lat]`, made unique, dropped; resolves once its transform ended. */
  async function dropPointsAt(lonLat: string): Promise<string> {
    const marker = uniqueName('hist');
    const body = irveExample
      .replace(/\[7\.48710500,48\.345345\]/g, lonLat)
      .replace(/Picpus/g, `Picpus ${marker}`);
    const key = `irve-statique/${marker}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
    const file = await recordedFile(pool, key);
    expect(file.status).toBe('loaded');
    const step = await eventually(
      async () =>
        (
          await pool.query(
            "SELECT status FROM ops.run_steps WHERE run_id = $1 AND step = 'transform' AND status <> 'running'",
            [file.run_id],
          )
        ).rows[0] as { status: string } | undefined,
      90_000,
      `the transform of ${key}`,
    );
    expect(step.status).toBe('succeeded');
    return file.run_id;
  }

  it('keeps each published pass, filters by series, measure and time, pages, and alerts on a crossed threshold', async () => {
    const started = new Date();
    // Bas-Rhin first (the Loiret has none), then both points in the Loiret: 0 → 44 kW there,
    // beyond the example's threshold (above 40 kW).
    const basRhin = await dropPointsAt('[7.48710500,48.345345]');
    const loiret = await dropPointsAt('[1.909251,47.902964]');

    const since = `from=${encodeURIComponent(started.toISOString())}`;
    const page = (
      await checked(
        `/datasets/irve_par_departement/history?measure=puissance_totale_kw&code_departement=45&${since}`,
      )
    ).json<{
      data: {
        takenAt: string;
        series: object;
        label: string;
        measure: string;
        value: number;
        runIds: string[];
      }[];
    }>();
    // The passes of these two drops: another e2e file's drop may publish a pass meanwhile
    // (CI once read 0, 0, 44 here on a slow machine).
    const ours = page.data.filter((value) => value.runIds.includes(basRhin) || value.runIds.includes(loiret));
    expect(ours.map((value) => [value.series, value.label, value.measure, value.value])).toEqual([
      [{ code_departement: '45' }, 'Loiret', 'puissance_totale_kw', 0],
      [{ code_departement: '45' }, 'Loiret', 'puissance_totale_kw', 44],
    ]);
    expect(ours[1]!.runIds).toContain(loiret);

    // Every value of both passes (96 départements × 2 measures × 2), one page or fifty at a time.
    // A pass of the deployed stack's own (a scheduled collect) may be published meanwhile, with
    // a time earlier than the last one's (its transaction's start): the pages are compared with
    // the whole history as it was before and after them, when it held still.
    const listed = `/datasets/irve_par_departement/history?${since}&limit=1000`;
    const { all, paged } = await eventually(
      async () => {
        const before = rowsOf(await checked(listed)).data;
        const pages: unknown[] = [];
        let next: string | null = `/datasets/irve_par_departement/history?${since}&limit=50`;
        while (next) {
          const answer = rowsOf(await checked(next));
          pages.push(...answer.data);
          next = answer.links.next ? pathOf(answer.links.next) : null;
        }
        const after = rowsOf(await checked(listed)).data;
        return JSON.stringify(after) === JSON.stringify(before) ? { all: before, paged: pages } : undefined;
      },
      60_000,
      'a history that holds still while it is paged',
    );
    expect(all.length % (96 * 2)).toBe(0);
    expect(all.length).toBeGreaterThanOrEqual(2 * 96 * 2);
    expect(paged).toEqual(all);
    const until = rowsOf(
      await checked(
        `/datasets/irve_par_departement/history?to=${encodeURIComponent(started.toISOString())}&limit=1`,
      ),
    ).data as { takenAt: string }[];
    for (const value of until) expect(Date.parse(value.takenAt)).toBeLessThan(started.getTime());

    // (No history path for a model that is not an indicator: the API says which are.)
    const none = await callApi(outputs.ApiUrl, '/datasets/irve_points/history');
    expect(none.status).toBe(404);
    expect(none.text).toContain('indicators: irve_par_departement');
    expect((await checked('/datasets/irve_par_departement/history?measure=nope')).status).toBe(400);
    expect((await checked('/datasets/irve_par_departement/history?from=yesterday')).status).toBe(400);

    // The threshold: one alert, and the indicator.threshold_crossed event to the subscriber.
    const alert = await eventually(
      async () =>
        (
          await pool.query(
            "SELECT severity, title, details FROM ops.alerts WHERE kind = 'threshold-crossed' AND run_id = $1",
            [loiret],
          )
        ).rows[0] as
          { severity: string; title: string; details: { indicator: { crossings: unknown[] } } } | undefined,
      30_000,
      'the threshold-crossed alert',
    );
    expect(alert.title).toBe('Plus de 40 kW installés dans un département: 1 series crossed');
    expect(alert.details.indicator.crossings).toEqual([
      { series: { code_departement: '45' }, label: 'Loiret', value: 44, previous: 0 },
    ]);
    const delivery = await eventually(
      async () =>
        (
          await pool.query(
            "SELECT payload FROM ops.deliveries WHERE event_type = 'indicator.threshold_crossed' AND payload->'data'->>'runId' = $1",
            [loiret],
          )
        ).rows[0] as { payload: { data: { dataset: string; indicator: object } } } | undefined,
      30_000,
      'the indicator.threshold_crossed delivery',
    );
    expect(delivery.payload.data).toMatchObject({
      dataset: 'irve_par_departement',
      indicator: {
        model: 'irve_par_departement',
        measure: 'puissance_totale_kw',
        above: 40,
        crossings: [{ series: { code_departement: '45' }, label: 'Loiret', value: 44, previous: 0 }],
      },
    });
  });
});
