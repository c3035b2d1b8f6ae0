import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ingestObject,
  migrate,
  startRun,
  tableSchemaSchema,
  type Buckets,
  type IngestContext,
  type IngestReport,
  type Project,
} from '@datacycle/core';
import { WORKERS_AT_ONCE_BYTES } from '@datacycle/core/validation-start';
import { generateIrveCsv } from '../../bench/irve-generator';
import { localS3, objectExists, readJson, readText, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, rawTable, testProject, irveExample } from '../helpers/projects';

const root = path.resolve(import.meta.dirname, '../..');
const irveSchema = tableSchemaSchema.parse(
  JSON.parse(readFileSync(path.join(root, 'examples/territoires/schemas/irve-statique.json'), 'utf8')),
);
const irveCsv = irveExample;

const s3 = localS3();
const pool = testPool();
const run = uniqueName('it');
let buckets: Buckets;
const datasetId = `${run}-irve`;
const table = rawTable(datasetId);

const projectWith = (policy: 'reject' | 'load-valid' = 'reject'): Project =>
  testProject([{ id: datasetId, schema: irveSchema, config: { onInvalid: { policy, maxErrorRate: 0.6 } } }]);

const context = (policy?: 'reject' | 'load-valid'): IngestContext => ({
  s3,
  pool,
  project: projectWith(policy),
  buckets,
});

async function drop(name: string, body: string | Buffer) {
  const key = `${datasetId}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: buckets.landing, Key: key, Body: body }));
  return { bucket: buckets.landing, key };
}

/** The example file with a marker in a free-text column, so each test has its own content. */
const variant = (marker: string, csv = irveCsv) => csv.replace(/Picpus/g, `Picpus ${marker}`);
const count = async () => Number((await pool.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

beforeAll(async () => {
  await migrate(pool);
  buckets = await createTestBuckets(s3, run);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

describe('ingestObject (PostgreSQL + LocalStack S3)', () => {
  it('loads a valid file, keeps a content-addressed raw copy, writes a report and clears landing', async () => {
    const source = await drop('exemple.csv', variant('a'));

    const outcome = await ingestObject(context(), source);

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    if (outcome.status === 'ignored') return;
    expect(await count()).toBe(2);
    const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
    expect(report).toMatchObject({
      verdict: 'loaded',
      rows: { read: 2, valid: 2, invalid: 0, loaded: 2 },
      dialect: { delimiter: ',', encoding: 'utf-8' },
    });
    expect(report.raw?.key).toBe(`raw/${datasetId}/${report.sha256}/exemple.csv`);
    expect(await objectExists(s3, buckets.raw, report.raw!.key)).toBe(true);
    expect(await objectExists(s3, source.bucket, source.key)).toBe(false);
    const { rows } = await pool.query(`SELECT DISTINCT _load_id::text, _source_key FROM ${table}`);
    expect(rows).toEqual([{ _load_id: outcome.runId, _source_key: source.key }]);
    const { rows: files } = await pool.query('SELECT status, rows_loaded FROM ops.files WHERE run_id = $1', [
      outcome.runId,
    ]);
    expect(files).toEqual([{ status: 'loaded', rows_loaded: '2' }]);
  });

  it('loads the same content once, whatever its name', async () => {
    const first = await ingestObject(context(), await drop('b1.csv', variant('b')));
    const second = await ingestObject(context(), await drop('b2.csv', variant('b')));

    expect(first.status).toBe('loaded');
    expect(second).toMatchObject({ status: 'duplicate', rowsLoaded: 0 });
    expect(await count()).toBe(2);
  });

  it('loads an earlier snapshot again when it is not the current one (rollback of a replace dataset)', async () => {
    await ingestObject(context(), await drop('v1.csv', variant('v1')));
    await ingestObject(context(), await drop('v2.csv', variant('v2')));

    const rollback = await ingestObject(context(), await drop('v1-again.csv', variant('v1')));

    expect(rollback).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const { rows } = await pool.query(`SELECT DISTINCT nom_station FROM ${table}`);
    expect(rows).toEqual([{ nom_station: 'Picpus v1' }]);
  });

  it('acknowledges a redelivered message for a file it already moved', async () => {
    const source = await drop('c.csv', variant('c'));
    await ingestObject(context(), source);

    const again = await ingestObject(context(), source);

    expect(again).toMatchObject({
      status: 'ignored',
      reason: expect.stringMatching(/already handled by run/),
    });
  });

  it('closes the run of an attempt that died mid-way when its message comes back, and loads once', async () => {
    const source = await drop('killed.csv', variant('killed'));
    // What a killed attempt leaves: its run and step 'running', nothing loaded or recorded.
    const deadRun = randomUUID();
    await startRun(pool, {
      id: deadRun,
      step: 'ingest',
      trigger: 's3',
      dataset: datasetId,
      details: { source },
    });
    // Another object of the dataset, in progress: not this message's, left alone.
    const otherRun = randomUUID();
    await startRun(pool, {
      id: otherRun,
      step: 'ingest',
      trigger: 's3',
      dataset: datasetId,
      details: { source: { ...source, key: `${datasetId}/other.csv` } },
    });

    const retry = await ingestObject(context(), source, { redelivered: true });

    expect(retry).toMatchObject({ status: 'loaded' });
    const { rows } = await pool.query<{ id: string; status: string; error: string | null }>(
      'SELECT id, status, error FROM ops.runs WHERE id = ANY($1::uuid[]) ORDER BY started_at',
      [[deadRun, otherRun, (retry as { runId: string }).runId]],
    );
    expect(rows).toEqual([
      {
        id: deadRun,
        status: 'failed',
        error: expect.stringMatching(
          /^interrupted: the ingest function stopped before it finished.*retried by run/,
        ),
      },
      { id: otherRun, status: 'running', error: null },
      { id: (retry as { runId: string }).runId, status: 'succeeded', error: null },
    ]);
    const { rows: steps } = await pool.query('SELECT status FROM ops.run_steps WHERE run_id = $1', [deadRun]);
    expect(steps).toEqual([{ status: 'failed' }]);
    await pool.query("UPDATE ops.runs SET status = 'failed' WHERE id = $1", [otherRun]);
  });

  it('quarantines a file whose header does not match, naming the columns, and leaves the table alone', async () => {
    await ingestObject(context(), await drop('good.csv', variant('d')));
    const before = await pool.query(`SELECT _load_id FROM ${table} LIMIT 1`);
    const badHeader = variant('e')
      .replace('nbre_pdc', 'nombre_pdc')
      .replace(',cable_t2_attache', ',cable_t2');

    const outcome = await ingestObject(context(), await drop('bad-header.csv', badHeader));

    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'ignored') return;
    const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
    expect(report.summary).toMatch(
      /missing columns: nbre_pdc, cable_t2_attache; unexpected columns: nombre_pdc, cable_t2/,
    );
    expect(report.errorCounts).toEqual({ 'missing-label': 2, 'extra-label': 2 });
    expect(await objectExists(s3, buckets.internal, report.quarantine!.key)).toBe(true);
    const markdown = await readText(s3, buckets.internal, outcome.reportKey.replace(/\.json$/, '.md'));
    expect(markdown).toContain('**❌ rejected — nothing loaded**: header does not match');
    expect(markdown).toContain('| missing-label | 2 |');
    const after = await pool.query(`SELECT _load_id FROM ${table} LIMIT 1`);
    expect(after.rows).toEqual(before.rows);
  });

  it('rejects a file with invalid rows by default, with located errors, loading nothing', async () => {
    await ingestObject(context(), await drop('good2.csv', variant('f')));
    const invalid = variant('g').replace(',10,FRA68E680210015,', ',dix,FRA68E680210015,');

    const outcome = await ingestObject(context(), await drop('invalid.csv', invalid));

    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'ignored') return;
    const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
    expect(report.rows).toMatchObject({ read: 2, invalid: 1, loaded: 0 });
    expect(report.errors).toContainEqual(
      expect.objectContaining({ type: 'type-error', rowNumber: 2, fieldName: 'nbre_pdc', cell: 'dix' }),
    );
    expect(await count()).toBe(2);
    const { rows } = await pool.query(`SELECT count(*) FROM ${table} WHERE nom_station LIKE '%g'`);
    expect(rows[0].count).toBe('0');
  });

  it('with load-valid, loads the valid rows and reports the others', async () => {
    const invalid = variant('h').replace(',10,FRA68E680210015,', ',dix,FRA68E680210015,');

    const outcome = await ingestObject(context('load-valid'), await drop('partly.csv', invalid));

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await count()).toBe(1);
  });

  it('reads a semicolon file in Windows-1252', async () => {
    const rows = parse(variant('é')) as string[][];
    const semicolons = rows
      .map((cells) => cells.map((c) => (/[;"\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(';'))
      .join('\r\n');

    const outcome = await ingestObject(
      context(),
      await drop('latin1.csv', iconv.encode(semicolons, 'win1252')),
    );

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const { rows: loaded } = await pool.query(
      `SELECT DISTINCT nom_amenageur, nom_station FROM ${table} ORDER BY 1`,
    );
    expect(loaded).toContainEqual({ nom_amenageur: 'Société X', nom_station: 'Picpus é' });
  });

  it('rejects an empty file and a binary file named .csv, keeping the originals', async () => {
    const empty = await ingestObject(context(), await drop('empty.csv', ''));
    const binary = await ingestObject(
      context(),
      await drop('image.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d])),
    );

    expect(empty.status).toBe('rejected');
    expect(binary.status).toBe('rejected');
    if (binary.status === 'ignored') return;
    const report = await readJson<IngestReport>(s3, buckets.internal, binary.reportKey);
    expect(report.summary).toMatch(/not text/);
    expect(await objectExists(s3, buckets.internal, report.quarantine!.key)).toBe(true);
  });

  it('ignores a key that no dataset declares', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: buckets.landing, Key: 'nobody/file.csv', Body: 'a,b\n1,2\n' }),
    );
    const outcome = await ingestObject(context(), { bucket: buckets.landing, key: 'nobody/file.csv' });
    expect(outcome).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/no dataset/) });
  });
  it('loads a large file through validation workers started ahead, every valid row once', async () => {
    // Past WORKERS_AT_ONCE_BYTES: the workers boot while the object is copied and the table prepared.
    const dir = mkdtempSync(path.join(tmpdir(), 'dc-ingest-'));
    const file = path.join(dir, 'irve-large.csv');
    const { invalid } = await generateIrveCsv(file, 30_000, 0.03, 11);
    const body = readFileSync(file);
    rmSync(dir, { recursive: true, force: true });
    expect(body.length).toBeGreaterThan(WORKERS_AT_ONCE_BYTES);
    const source = await drop('large.csv', body);

    const outcome = await ingestObject(context('load-valid'), source);

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 30_000 - invalid });
    const { rows } = await pool.query<{ n: string; distinct: string; last: string }>(
      `SELECT count(*) AS n, count(DISTINCT _row_number) AS distinct, max(_row_number) AS last FROM ${table}`,
    );
    expect(rows[0]).toEqual({ n: String(30_000 - invalid), distinct: String(30_000 - invalid), last: '30001' });
  });
});
