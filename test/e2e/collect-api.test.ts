/**
 * An incremental API source through the deployed stack: the irve-dynamique rule's target is
 * invoked with the rule's input → collect pages the (local) OpenDataSoft-like API → NDJSON in
 * landing → ingest → raw.irve_dynamique. A second run asks only for newer states.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePortalPort } from '../../localcloud/example-portal';
import { serveFiles } from '../../localcloud/file-server';
import { fireAndWaitForRun, readStackOutputs, testPool, recordedFile } from '../helpers/local-cloud';

const root = path.resolve(import.meta.dirname, '../..');
const example = readFileSync(path.join(root, 'examples/territoires/data/irve-dynamique.csv'), 'utf8');
const outputs = readStackOutputs();
const pool = testPool();
const portalDir = mkdtempSync(path.join(tmpdir(), 'dc-api-portal-'));
let portal: Server;

beforeAll(async () => {
  portal = await serveFiles(portalDir, examplePortalPort);
});
afterAll(async () => {
  portal.close();
  await pool.end();
});

const fireAndWait = () => fireAndWaitForRun(pool, outputs.ScheduleRules, 'irve-dynamique:0');

describe('incremental api source on the deployed stack', () => {
  it('collects the states newer than the cursor, loads them, then asks only for newer ones', async () => {
    // States stamped now: newer than any cursor a previous run left.
    const now = new Date().toISOString().replace(/\.\d+Z$/, '+0000');
    writeFileSync(
      path.join(portalDir, 'irve-dynamique.csv'),
      example.replace(/2022-10-18T12:35:49\+0000/g, now),
    );

    const first = await fireAndWait();

    expect(first).toMatchObject({ status: 'succeeded', details: { records: 2 } });
    const file = await recordedFile(pool, first.details.key!);
    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '2' });
    const { rows } = await pool.query(
      'SELECT id_pdc_itinerance, etat_prise_type_chademo FROM raw.irve_dynamique WHERE horodatage = $1::timestamptz ORDER BY 1',
      [now.replace('+0000', 'Z')],
    );
    expect(rows).toEqual([
      { id_pdc_itinerance: 'ESZUNE1111ER7', etat_prise_type_chademo: null },
      { id_pdc_itinerance: 'FRA68P68021001', etat_prise_type_chademo: null },
    ]);

    const second = await fireAndWait();

    expect(second.status).toBe('skipped');
  });
});
