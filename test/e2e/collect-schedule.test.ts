/**
 * A scheduled source through the deployed stack: the EventBridge rule's target is invoked
 * with the rule's own input (as EventBridge does when it fires) → collect function → landing
 * bucket → S3 event → ingest queue → ingest function → raw.departements.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePortalPort } from '../../localcloud/example-portal';
import { serveFiles } from '../../localcloud/file-server';
import {
  fireAndWaitForRun,
  readStackOutputs,
  testPool,
  uniqueName,
  recordedFile,
} from '../helpers/local-cloud';

const root = path.resolve(import.meta.dirname, '../..');
const original = path.join(root, 'examples/territoires/data/departements.csv');
const outputs = readStackOutputs();
const pool = testPool();
const portalDir = mkdtempSync(path.join(tmpdir(), 'dc-portal-'));
const served = path.join(portalDir, 'departements.csv');
let portal: Server;

const fireAndWait = () => fireAndWaitForRun(pool, outputs.ScheduleRules, 'departements:0');

const loadedFile = (key: string) => recordedFile(pool, key);

beforeAll(async () => {
  portal = await serveFiles(portalDir, examplePortalPort);
});
afterAll(async () => {
  // Leave the example's reference data as it was.
  copyFileSync(original, served);
  const restore = await fireAndWait();
  if (restore.details.key) await loadedFile(restore.details.key);
  portal.close();
  await pool.end();
});

describe('scheduled http source on the deployed stack', () => {
  it('collects a changed file into landing and loads it; an unchanged one costs one request', async () => {
    const marker = uniqueName('Ain');
    writeFileSync(served, readFileSync(original, 'utf8').replace('\n01,Ain,', `\n01,${marker},`));

    const collected = await fireAndWait();

    expect(collected).toMatchObject({ status: 'succeeded', details: { http: 200 } });
    expect(collected.details.key).toMatch(/^departements\/\d{8}T\d{6}Z-[0-9a-f]{8}-departements\.csv$/);
    expect(await loadedFile(collected.details.key!)).toMatchObject({ status: 'loaded', rows_loaded: '96' });
    const { rows } = await pool.query("SELECT nom FROM raw.departements WHERE code = '01'");
    expect(rows).toEqual([{ nom: marker }]);

    const again = await fireAndWait();

    expect(again).toMatchObject({ status: 'skipped', details: { http: 304 } });
  });
});
