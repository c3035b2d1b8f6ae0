/**
 * The udata and WFS sources of the example through the deployed stack, against the demo
 * portal (a udata-like API and a paging WFS on loopback): schedule target → collect →
 * landing → ingest → raw.irve_consolidation and raw.regions.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePortalPort, serveExamplePortal } from '../../localcloud/example-portal';
import {
  eventually,
  fireAndWaitForRun,
  readStackOutputs,
  recordedFile,
  runSteps,
  testPool,
} from '../helpers/local-cloud';

const outputs = readStackOutputs();
const pool = testPool();
let portal: Server;

beforeAll(async () => {
  portal = await serveExamplePortal();
});
afterAll(async () => {
  portal.close();
  await pool.end();
});

/** A re-run of the suite collects the same bytes: ingestion then records a duplicate, the table keeps them. */
const landed = ['loaded', 'duplicate'];

describe('udata and WFS sources on the deployed stack', () => {
  it('collects a udata dataset: picks its CSV resource by format and title, and loads it', async () => {
    const run = await fireAndWaitForRun(pool, outputs.ScheduleRules, 'irve-consolidation:0');

    expect(run).toMatchObject({ status: 'succeeded', error: null });
    expect(run.details.resource).toBe(`http://127.0.0.1:${examplePortalPort}/irve-statique-exemple.csv`);
    const file = await recordedFile(pool, run.details.key!);
    expect(landed).toContain(file.status);
    // One run from the schedule to the load: collect, then ingest, as its steps.
    expect(file.run_id).toBe(run.id);
    // The file is recorded in the load's transaction, its step ended just after: wait for it.
    const steps = await eventually(
      async () => {
        const all = await runSteps(pool, run.id);
        return all.some((one) => one.status === 'running') ? undefined : all;
      },
      30_000,
      `the steps of run ${run.id} to end`,
    );
    expect(steps).toEqual([
      { step: 'collect', status: 'succeeded' },
      { step: 'ingest', status: file.status === 'loaded' ? 'succeeded' : 'skipped' },
    ]);
    // The run is over with its last step, and as good as its steps.
    const { rows: ended } = await pool.query('SELECT status FROM ops.runs WHERE id = $1', [run.id]);
    expect(ended).toEqual([{ status: 'succeeded' }]);
    const { rows } = await pool.query('SELECT id_pdc_itinerance FROM raw.irve_consolidation ORDER BY 1');
    expect(rows.map((row) => row.id_pdc_itinerance)).toEqual(['ESZUNE1111ER7', 'FRA68E680210015']);
  });

  it('collects a WFS layer page by page into one GeoJSON file, loaded as PostGIS geometries', async () => {
    const run = await fireAndWaitForRun(pool, outputs.ScheduleRules, 'regions:0');

    // 13 régions, 5 a page: 3 pages.
    expect(run).toMatchObject({ status: 'succeeded', details: { pages: 3, records: 13 } });
    const file = await recordedFile(pool, run.details.key!);
    expect(landed).toContain(file.status);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS regions, bool_and(ST_IsValid(geometry)) AS valid,
              max(nom) FILTER (WHERE code = '24') AS centre
       FROM raw.regions`,
    );
    expect(rows).toEqual([{ regions: 13, valid: true, centre: 'Centre-Val de Loire' }]);
  });
});
