/**
 * Producers' real-world files through the deployed stack: a semicolon CSV in Windows-1252,
 * an XLSX workbook and a GeoJSON FeatureCollection, each dropped in the landing bucket.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import type { IngestReport } from '@datacycle/core';
import { files } from '../helpers/files';
import {
  localS3,
  readJson,
  readStackOutputs,
  testPool,
  uniqueName,
  recordedFile,
} from '../helpers/local-cloud';

const root = path.resolve(import.meta.dirname, '../..');
const [header, ...examples] = parse(
  readFileSync(path.join(root, 'examples/territoires/data/irve-statique-exemple.csv'), 'utf8'),
) as string[][];
const outputs = readStackOutputs();
const s3 = localS3();
const pool = testPool();

async function dropAndWait(key: string, body: Buffer) {
  await s3.send(new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body }));
  const file = await recordedFile(pool, key);
  const report = await readJson<IngestReport>(s3, outputs.InternalBucket, file.report_key);
  return { file, report };
}

/** The IRVE example rows with a unique station name. */
const irveRows = (marker: string) =>
  examples.map((row) => row.map((cell) => (cell === 'Picpus' ? `Picpus ${marker}` : cell)));

afterAll(() => pool.end());

describe('file formats on the deployed stack', () => {
  it('loads a semicolon CSV in Windows-1252', async () => {
    const marker = uniqueName('é');
    const lines = [header!, ...irveRows(marker)].map((cells) =>
      cells.map((c) => (/[;"]/.test(c) ? `"${c}"` : c)).join(';'),
    );

    const { file, report } = await dropAndWait(
      `irve-statique/${marker}.csv`,
      iconv.encode(lines.join('\r\n'), 'win1252'),
    );

    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '2' });
    expect(report.dialect).toEqual({ encoding: 'windows-1252', delimiter: ';' });
    const { rows } = await pool.query('SELECT DISTINCT nom_amenageur, nom_station FROM raw.irve_statique');
    expect(rows).toContainEqual({ nom_amenageur: 'Société X', nom_station: `Picpus ${marker}` });
  });

  it('loads an XLSX workbook with real date cells', async () => {
    const marker = uniqueName('xlsx');
    const typed = irveRows(marker).map((row) =>
      row.map((cell, i) => {
        const name = header![i]!;
        if (name.startsWith('date_') && cell) return new Date(`${cell}T00:00:00Z`);
        if (name === 'nbre_pdc' || name === 'puissance_nominale') return Number(cell);
        return cell;
      }),
    );
    const workbook = await files.xlsx({ IRVE: [header!, ...typed] });

    const { file, report } = await dropAndWait(`irve-statique/${marker}.xlsx`, workbook);

    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '2' });
    expect(report.tables).toEqual([expect.objectContaining({ format: 'xlsx', sheet: expect.any(String) })]);
    const { rows } = await pool.query('SELECT DISTINCT date_maj::text, nbre_pdc FROM raw.irve_statique');
    expect(rows).toEqual([{ date_maj: '2021-04-05', nbre_pdc: '10' }]);
  });

  it('loads a GeoJSON FeatureCollection of polygons into PostGIS', async () => {
    // A marker in one name makes the content new, so the test also holds when run again.
    const collection = JSON.parse(
      readFileSync(path.join(root, 'test/fixtures/geo/departements.geojson'), 'utf8'),
    ) as {
      features: { properties: { code: string; nom: string } }[];
    };
    const marker = uniqueName('Ain');
    collection.features.find((feature) => feature.properties.code === '01')!.properties.nom = marker;
    const geojson = Buffer.from(JSON.stringify(collection));

    const { file, report } = await dropAndWait(`departements/${uniqueName('geo')}.geojson`, geojson);

    expect(report.tables?.[0]?.format).toBe('geojson');
    expect(file).toMatchObject({ status: 'loaded', rows_loaded: '96' });
    const { rows } = await pool.query(
      "SELECT code, nom, ST_GeometryType(geometry) AS type, ST_SRID(geometry) AS srid FROM raw.departements WHERE code IN ('01', '45') ORDER BY code",
    );
    expect(rows).toEqual([
      { code: '01', nom: marker, type: 'ST_Polygon', srid: 4326 },
      { code: '45', nom: 'Loiret', type: 'ST_Polygon', srid: 4326 },
    ]);
  });
});
