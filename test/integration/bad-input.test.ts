/**
 * Bad input, each a case producers really send: a clear report, never a crash, never a
 * partial load, and the original kept in S3.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ingestObject,
  migrate,
  type Buckets,
  type DatasetConfig,
  type IngestReport,
  type Project,
} from '@datacycle/core';
import { files } from '../helpers/files';
import { localS3, objectExists, readJson, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, rawTable, testProject } from '../helpers/projects';

const s3 = localS3();
const pool = testPool();
const run = uniqueName('bad');
let buckets: Buckets;
const communes = `${run}-communes`;
const zones = `${run}-zones`;
const table = rawTable;

const project = (format?: DatasetConfig['format']): Project =>
  testProject([
    {
      id: communes,
      schema: {
        fields: [
          { name: 'code', constraints: { required: true } },
          { name: 'nom' },
          { name: 'maj', type: 'date' },
        ],
      },
      config: format ? { format } : {},
    },
    { id: zones, schema: { fields: [{ name: 'code' }, { name: 'geometry', type: 'geojson' }] } },
  ]);

async function ingest(
  dataset: string,
  name: string,
  body: string | Buffer,
  format?: DatasetConfig['format'],
) {
  const key = `${dataset}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: buckets.landing, Key: key, Body: body }));
  const outcome = await ingestObject(
    { s3, pool, project: project(format), buckets },
    { bucket: buckets.landing, key },
  );
  if (outcome.status === 'ignored') throw new Error(`ignored: ${outcome.reason}`);
  const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
  return { outcome, report };
}

const good = 'code,nom,maj\n45234,Orléans,2024-01-31\n2A004,Ajaccio,2024-02-01\n';
const count = async (id: string) =>
  Number((await pool.query(`SELECT count(*) FROM ${table(id)}`)).rows[0].count);

beforeAll(async () => {
  await migrate(pool);
  buckets = await createTestBuckets(s3, run);
  await ingest(communes, 'good.csv', good);
});
afterAll(async () => {
  for (const id of [communes, zones]) await pool.query(`DROP TABLE IF EXISTS ${table(id)}`);
  await pool.end();
});

/** Rejected, located, nothing loaded, the previous rows in place, the original in quarantine. */
async function expectRejected(result: Awaited<ReturnType<typeof ingest>>, summary: RegExp) {
  expect(result.outcome.status).toBe('rejected');
  expect(result.report.summary).toMatch(summary);
  expect(await objectExists(s3, buckets.internal, result.report.quarantine!.key)).toBe(true);
  expect(await count(communes)).toBe(2);
}

describe('bad input', () => {
  it('a header without rows', async () => {
    await expectRejected(await ingest(communes, 'header-only.csv', 'code,nom,maj\n'), /no data rows/);
  });

  it('a truncated last line', async () => {
    const result = await ingest(
      communes,
      'truncated.csv',
      'code,nom,maj\n45234,Orléans,2024-01-31\n2A004,Ajac',
    );
    await expectRejected(result, /1 of 2 rows are invalid/);
    expect(result.report.errors).toContainEqual(
      expect.objectContaining({ type: 'missing-cell', rowNumber: 3, fieldName: 'maj' }),
    );
  });

  it('mixed line endings load fine', async () => {
    const { outcome } = await ingest(
      communes,
      'mixed.csv',
      'code,nom,maj\r\n45234,Orléans,2024-01-31\n2A004,Ajaccio,2024-02-01\r\n',
    );
    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    await ingest(communes, 'good-again.csv', good.replace('Orléans', 'Orleans'));
  });

  it('duplicate and blank column names', async () => {
    const result = await ingest(communes, 'dup.csv', 'code,nom,nom,,maj\n1,a,b,,2024-01-01\n');
    await expectRejected(result, /duplicate or blank column names/);
    expect(result.report.errorCounts).toEqual({ 'duplicate-label': 1, 'blank-label': 1 });
  });

  it('a 10 MB cell loads; a record over the 16 MB limit is refused with its line', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const { outcome } = await ingest(communes, 'big-cell.csv', `code,nom,maj\n1,${big},2024-01-01\n`);
    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    await ingest(communes, 'good-3.csv', good.replace('Ajaccio', 'Aiacciu'));

    const huge = 'y'.repeat(17 * 1024 * 1024);
    await expectRejected(
      await ingest(communes, 'huge-cell.csv', `code,nom,maj\n1,"${huge}",2024-01-01\n`),
      /record starting near line 2 is longer than/,
    );
  });

  it('an unbalanced quote', async () => {
    await expectRejected(
      await ingest(communes, 'quote.csv', 'code,nom,maj\n1,"Orléans,2024-01-01\n2,Tours,2024-01-01\n'),
      /quote opened at line 2 is never closed/,
    );
  });

  it('a file in Windows-1252 where the dataset declares UTF-8', async () => {
    const latin1 = iconv.encode('code,nom,maj\n45234,Orléans,2024-01-31\n', 'win1252');
    await expectRejected(
      await ingest(communes, 'latin1.csv', latin1, { encoding: 'utf-8' }),
      /declares UTF-8 but the file is not valid UTF-8/,
    );
  });

  it('an XLSX with formulas, merged cells and several sheets: values of the chosen sheet', async () => {
    const workbook = await files.xlsx(
      {
        Lisez_moi: [['notice']],
        Communes: [
          ['code', 'nom', 'maj'],
          ['45234', '', new Date(Date.UTC(2024, 0, 31))],
          ['2A004', 'Ajaccio', new Date(Date.UTC(2024, 1, 1))],
        ],
      },
      (wb) => {
        const sheet = wb.getWorksheet('Communes')!;
        sheet.getCell('B2').value = { formula: 'UPPER("orléans")', result: 'ORLÉANS' };
        sheet.mergeCells('D1:E1');
      },
    );

    const { outcome } = await ingest(communes, 'communes.xlsx', workbook, { sheet: 'Communes' });

    expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const { rows } = await pool.query(`SELECT nom, maj::text FROM ${table(communes)} ORDER BY code`);
    expect(rows).toEqual([
      { nom: 'Ajaccio', maj: '2024-02-01' },
      { nom: 'ORLÉANS', maj: '2024-01-31' },
    ]);
    await ingest(communes, 'good-4.csv', good.replace('Orléans', 'Orléans-la-Source'));
  });

  it('an invalid GeoJSON geometry is refused by PostGIS, the table untouched', async () => {
    const ok = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: 'a' }, geometry: { type: 'Point', coordinates: [1, 2] } },
      ],
    };
    await ingest(zones, 'ok.geojson', JSON.stringify(ok));
    const broken = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: 'b' }, geometry: { type: 'Polygon', coordinates: [[1, 2]] } },
      ],
    };

    const result = await ingest(zones, 'broken.geojson', JSON.stringify(broken));

    expect(result.outcome.status).toBe('rejected');
    expect(result.report.summary).toMatch(/PostgreSQL refused the data|geometry|coordinates/i);
    const { rows } = await pool.query(`SELECT code FROM ${table(zones)}`);
    expect(rows).toEqual([{ code: 'a' }]);
  });

  it('a zip bomb: refused from the declared sizes of the archive, original kept', async () => {
    const bomb = await files.zip({
      'communes.csv': Buffer.concat([Buffer.from('code,nom,maj\n'), Buffer.alloc(30 * 1024 * 1024, 0x30)]),
    });
    expect(bomb.length).toBeLessThan(100 * 1024);
    const key = `${communes}/bomb.zip`;
    await s3.send(new PutObjectCommand({ Bucket: buckets.landing, Key: key, Body: bomb }));

    const outcome = await ingestObject(
      { s3, pool, project: project(), buckets, maxUncompressedBytes: 10 * 1024 * 1024 },
      { bucket: buckets.landing, key },
    );

    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'ignored') return;
    const report = await readJson<IngestReport>(s3, buckets.internal, outcome.reportKey);
    expect(report.summary).toMatch(/the archive expands to 31457293 bytes, more than 10485760/);
    expect(await objectExists(s3, buckets.internal, report.quarantine!.key)).toBe(true);
    expect(await count(communes)).toBe(2);
  });
});
