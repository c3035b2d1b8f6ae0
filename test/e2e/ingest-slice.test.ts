/**
 * The first vertical slice, through the deployed stack's real triggers on LocalStack:
 * a PUT in the landing bucket → S3 notification → ingest queue → event source mapping →
 * the deployed ingest function (run by the node-process executor) → PostgreSQL.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { irveExample } from '../helpers/projects';
import { afterAll, describe, expect, it } from 'vitest';
import type { IngestReport } from '@datacycle/core';
import {
  localS3,
  objectExists,
  readJson,
  readStackOutputs,
  testPool,
  uniqueName,
  recordedFile,
} from '../helpers/local-cloud';

const example = irveExample;
const outputs = readStackOutputs();
const s3 = localS3();
const pool = testPool();

async function drop(body: string, name = `${uniqueName('e2e')}.csv`): Promise<string> {
  const key = `irve-statique/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
  return key;
}

const recorded = (key: string) => recordedFile(pool, key);

/** Unique content per test: the same bytes would (rightly) load only once. */
const unique = (marker = uniqueName('m')) => example.replace(/Picpus/g, `Picpus ${marker}`);

afterAll(() => pool.end());

describe('ingest slice on the deployed stack', () => {
  it('loads a file dropped in landing/irve-statique/ into raw.irve_statique, with lineage, report and run', async () => {
    const marker = uniqueName('load');
    const key = await drop(unique(marker));

    const file = await recorded(key);

    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '2', error: null });
    const { rows } = await pool.query(
      'SELECT nom_station, _load_id::text AS load_id, _source_key, _row_number FROM raw.irve_statique ORDER BY _row_number',
    );
    expect(rows).toEqual([
      { nom_station: `Picpus ${marker}`, load_id: file.run_id, _source_key: key, _row_number: '2' },
      { nom_station: `Picpus ${marker}`, load_id: file.run_id, _source_key: key, _row_number: '3' },
    ]);
    const report = await readJson<IngestReport>(s3, outputs.InternalBucket, file.report_key);
    expect(report).toMatchObject({ verdict: 'loaded', runId: file.run_id, rows: { loaded: 2 } });
    expect(await objectExists(s3, outputs.RawBucket, file.raw_key!)).toBe(true);
    const { rows: runs } = await pool.query('SELECT status, trigger, dataset FROM ops.runs WHERE id = $1', [
      file.run_id,
    ]);
    expect(runs).toEqual([{ status: 'succeeded', trigger: 's3', dataset: 'irve-statique' }]);
  });

  it('loads the same file dropped twice only once', async () => {
    const body = unique();
    const first = await recorded(await drop(body));
    const loadedBy = (await pool.query('SELECT DISTINCT _load_id::text AS id FROM raw.irve_statique')).rows;

    const second = await recorded(await drop(body));

    expect(first.status).toBe('loaded');
    expect(second).toMatchObject({ status: 'duplicate', rows_loaded: '0' });
    expect((await pool.query('SELECT DISTINCT _load_id::text AS id FROM raw.irve_statique')).rows).toEqual(
      loadedBy,
    );
  });

  it('moves a file whose header does not match to quarantine/ with a report, leaving the table untouched', async () => {
    await recorded(await drop(unique()));
    const before = (
      await pool.query('SELECT _load_id::text AS id, count(*) FROM raw.irve_statique GROUP BY 1')
    ).rows;
    const wrong = unique().replace('id_pdc_itinerance', 'identifiant_pdc');

    const key = await drop(wrong);
    const file = await recorded(key);

    expect(file.status).toBe('rejected');
    const report = await readJson<IngestReport>(s3, outputs.InternalBucket, file.report_key);
    expect(report.summary).toBe(
      'header does not match the schema of irve-statique: missing columns: id_pdc_itinerance; unexpected columns: identifiant_pdc',
    );
    expect(await objectExists(s3, outputs.InternalBucket, report.quarantine!.key)).toBe(true);
    expect(await objectExists(s3, outputs.LandingBucket, key)).toBe(false);
    expect(
      (await pool.query('SELECT _load_id::text AS id, count(*) FROM raw.irve_statique GROUP BY 1')).rows,
    ).toEqual(before);
  });
});
