/**
 * Exports read back by real consumers: CSV by papaparse with the declared dialect (and
 * validated against the dataset's own Table Schema), XLSX by exceljs, GeoJSON loaded back
 * into PostGIS, Parquet by hyparquet; the data package checked against the Frictionless
 * tabular data package rules; latest/ equal to the version.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { parquetReadObjects } from 'hyparquet';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileField,
  copyRowsOf,
  inTransaction,
  loadTable,
  migrate,
  projectOutputs,
  publishCatalog,
  publishOutput,
  tableSchemaSchema,
  validateFile,
  type Output,
} from '@datacycle/core';
import { Readable } from 'node:stream';
import { localS3, testPool, uniqueName } from '../helpers/local-cloud';
import { createTestBuckets, testProject } from '../helpers/projects';
import { readGeoParquet, validateDataPackage } from '../helpers/conformance';
import jsonld from 'jsonld';
import { Parser } from 'n3';

const s3 = localS3();
const pool = testPool();
const table = `stations_${uniqueName('p').replace(/-/g, '_')}`;
const schema = tableSchemaSchema.parse({
  fields: [
    { name: 'code', type: 'string' },
    { name: 'puissance', type: 'number' },
    { name: 'points', type: 'integer' },
    { name: 'gratuit', type: 'boolean' },
    { name: 'mise_en_service', type: 'date' },
    { name: 'position', type: 'geopoint', format: 'array' },
  ],
});
/** The points of the rows below, as WKT. */
const expectedPointsWkt = ['POINT (1.9 47.9)', 'POINT (8.7 41.9)', null];
// The rows as validation gives them (a point as its EWKB).
const rows = [
  ['45234', '22.5', '2', 'true', '2023-04-13', '[1.9, 47.9]'],
  ['2A004', '150', '8', 'false', null, '[8.7, 41.9]'],
  ['75056', '3.7', '1', null, '2019-01-02', null],
].map((cells) =>
  cells.map((cell, i) => {
    if (cell === null) return null;
    const cast = compileField(schema.fields[i]!).cast(cell);
    if (!cast.ok) throw new Error(cast.message);
    return cast.value;
  }),
);
let bucket: string;

const bytes = async (key: string) =>
  Buffer.from(
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
  );

beforeAll(async () => {
  await migrate(pool);
  bucket = (await createTestBuckets(s3, uniqueName('pub'))).public;
  await inTransaction(pool, (client) =>
    loadTable(client, {
      schemaName: 'raw',
      table,
      tableSchema: schema,
      mode: 'replace',
      copyRows: copyRowsOf([rows.map((values, i) => ({ rowNumber: i + 2, values }))], schema.fields, {
        loadId: crypto.randomUUID(),
        sourceKey: 'test.csv',
      }),
    }),
  );
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS raw.${table}`);
  await pool.end();
});

const output: Output = {
  kind: 'dataset',
  name: 'stations',
  relation: { schema: 'raw', name: table },
  title: 'Stations de test',
  description: 'Trois stations',
  licence: 'etalab-2.0',
  formats: ['csv', 'xlsx', 'geojson', 'parquet'],
  csv: { delimiter: ';', bom: true },
  tableSchema: schema,
};

describe('publishOutput', () => {
  it('publishes every format, each readable by its usual reader, and a data package', async () => {
    const publication = await publishOutput({ pool, s3, bucket }, output, '20261128T120000Z');

    expect(publication.rows).toBe(3);
    expect(publication.files.map((file) => file.key)).toEqual([
      'exports/stations/20261128T120000Z/stations.csv',
      'exports/stations/20261128T120000Z/stations.xlsx',
      'exports/stations/20261128T120000Z/stations.geojson',
      'exports/stations/20261128T120000Z/stations.parquet',
    ]);

    // CSV: BOM, `;`, the lineage columns left out, and valid against the dataset's own schema.
    const csv = await bytes(publication.files[0]!.key);
    expect(csv.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const parsed = Papa.parse<string[]>(csv.toString('utf8').slice(1), {
      delimiter: ';',
      skipEmptyLines: true,
    });
    expect(parsed.data).toEqual([
      ['code', 'puissance', 'points', 'gratuit', 'mise_en_service', 'position'],
      ['45234', '22.5', '2', 'true', '2023-04-13', '[1.9,47.9]'],
      ['2A004', '150', '8', 'false', '', '[8.7,41.9]'],
      ['75056', '3.7', '1', '', '2019-01-02', ''],
    ]);
    const validation = await validateFile(Readable.from([csv]), schema, { name: 'stations.csv' });
    expect(validation).toMatchObject({ valid: true, rows: { read: 3, invalid: 0 } });

    // XLSX: typed cells, a header, an "about" sheet.
    const workbook = new ExcelJS.Workbook();
    const xlsx = await bytes(publication.files[1]!.key);
    await workbook.xlsx.load(
      xlsx.buffer.slice(xlsx.byteOffset, xlsx.byteOffset + xlsx.byteLength) as ArrayBuffer,
    );
    const data = workbook.getWorksheet('data')!;
    expect(data.getRow(1).values).toEqual([
      undefined,
      'code',
      'puissance',
      'points',
      'gratuit',
      'mise_en_service',
      'position',
    ]);
    expect(data.getCell('B2').value).toBe(22.5);
    expect(data.getCell('D3').value).toBe(false);
    expect(data.getCell('E2').value).toEqual(new Date('2023-04-13T00:00:00Z'));
    expect(workbook.getWorksheet('about')!.getCell('B1').value).toBe('Stations de test');

    // GeoJSON: back into PostGIS, the same points.
    const geojson = JSON.parse((await bytes(publication.files[2]!.key)).toString('utf8'));
    expect(geojson.features).toHaveLength(3);
    expect(geojson.features[0].properties).toEqual({
      code: '45234',
      puissance: 22.5,
      points: 2,
      gratuit: true,
      mise_en_service: '2023-04-13',
    });
    const { rows: back } = await pool.query(
      `SELECT ST_AsText(ST_GeomFromGeoJSON($1)) AS a, ST_AsText(ST_GeomFromGeoJSON($2)) AS b`,
      [JSON.stringify(geojson.features[0].geometry), JSON.stringify(geojson.features[1].geometry)],
    );
    expect(back).toEqual([{ a: 'POINT(1.9 47.9)', b: 'POINT(8.7 41.9)' }]);
    expect(geojson.features[2]).toEqual({
      type: 'Feature',
      geometry: null,
      properties: { code: '75056', puissance: 3.7, points: 1, gratuit: null, mise_en_service: '2019-01-02' },
    });

    // Parquet: typed columns.
    const parquet = await bytes(publication.files[3]!.key);
    const records = await parquetReadObjects({
      file: parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength),
    });
    expect(records.map((record) => [record.code, record.puissance, record.points, record.gratuit])).toEqual([
      ['45234', 22.5, 2n, true],
      ['2A004', 150, 8n, false],
      ['75056', 3.7, 1n, null],
    ]);
    // GeoParquet 1.1: GeoPandas finds the geometry, its CRS and its bounding box.
    const spool = mkdtempSync(path.join(tmpdir(), 'geoparquet-'));
    writeFileSync(path.join(spool, 'stations.parquet'), parquet);
    const geoparquet = await readGeoParquet(path.join(spool, 'stations.parquet'));
    expect(geoparquet.geo).toMatchObject({
      version: '1.1.0',
      primary_column: 'position',
      columns: { position: { encoding: 'WKB', geometry_types: ['Point'] } },
    });
    expect(geoparquet.crs).toBe('OGC:CRS84');
    expect(geoparquet.wkt).toEqual(expectedPointsWkt);
    expect(geoparquet.geo.columns.position!.bbox).toEqual(geoparquet.totalBounds);
    // Typed as pyarrow reads the schema; dates as dates, nulls as nulls.
    expect(geoparquet.types).toEqual({
      code: 'string',
      puissance: 'double',
      points: 'int64',
      gratuit: 'bool',
      mise_en_service: 'date32[day]',
      position: 'binary',
    });
    expect(geoparquet.records.map((record) => [record.gratuit, record.mise_en_service])).toEqual([
      [true, '2023-04-13T00:00:00.000'],
      [false, null],
      [null, '2019-01-02T00:00:00.000'],
    ]);

    // The data package: every resource with its size and hash (Parquet's aside, see
    // dataPackage), the schema with the CSV.
    const datapackage = JSON.parse((await bytes(publication.datapackageKey)).toString('utf8'));
    expect(datapackage).toMatchObject({
      profile: 'data-package',
      name: 'stations',
      licenses: [{ name: 'etalab-2.0' }],
    });
    expect(datapackage.resources).toHaveLength(4);
    for (const [index, resource] of datapackage.resources.entries()) {
      const file = publication.files[index]!;
      const size = { bytes: file.bytes, hash: `sha256:${file.sha256}` };
      expect(resource).toMatchObject({
        path: `stations.${file.format}`,
        profile: file.format === 'csv' ? 'tabular-data-resource' : 'data-resource',
        ...(file.format === 'parquet' ? { 'datacycle:checksum': size } : size),
      });
    }
    // frictionless-py, the reference implementation, validates the package and every file in it.
    const dir = mkdtempSync(path.join(tmpdir(), 'datapackage-'));
    writeFileSync(path.join(dir, 'datapackage.json'), await bytes(publication.datapackageKey));
    for (const file of publication.files)
      writeFileSync(path.join(dir, path.basename(file.key)), await bytes(file.key));
    const verdict = await validateDataPackage(path.join(dir, 'datapackage.json'));
    expect(verdict.errors).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(datapackage.resources[0]).toMatchObject({
      profile: 'tabular-data-resource',
      dialect: { delimiter: ';' },
      schema: {
        fields: expect.arrayContaining([expect.objectContaining({ name: 'position', type: 'geopoint' })]),
      },
    });

    // latest/: the same bytes, served with a type and as a download.
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'exports/stations/latest/stations.csv' }),
    );
    expect(head).toMatchObject({
      ContentType: 'text/csv; charset=utf-8',
      ContentDisposition: 'attachment; filename="stations.csv"',
      ContentLength: csv.length,
    });
  });

  it('writes GeoJSON text properties byte for byte, whatever they hold; polygons in GeoParquet', async () => {
    const tricky = 'Hauteur "2,10 m"\tligne 2\nchemin C:\\parking ; é € 😀 \u001f';
    const polygons = `zones_${uniqueName('g').replace(/-/g, '_')}`;
    await pool.query(`CREATE TABLE raw.${polygons} (geom geometry(Polygon, 4326), note text)`);
    await pool.query(
      `INSERT INTO raw.${polygons} VALUES (ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326), $1), (NULL, NULL)`,
      [tricky],
    );
    try {
      const publication = await publishOutput(
        { pool, s3, bucket },
        {
          kind: 'model',
          name: 'zones',
          relation: { schema: 'raw', name: polygons },
          title: 'Zones',
          licence: 'etalab-2.0',
          formats: ['geojson', 'parquet'],
          csv: { delimiter: ',', bom: false },
        },
        '20261128T120000Z',
      );
      // The same polygons in GeoParquet, the row without one a null geometry.
      const spool = mkdtempSync(path.join(tmpdir(), 'geoparquet-'));
      writeFileSync(path.join(spool, 'zones.parquet'), await bytes(publication.files[1]!.key));
      const geoparquet = await readGeoParquet(path.join(spool, 'zones.parquet'));
      expect(geoparquet.geo.columns.geom).toEqual({
        encoding: 'WKB',
        geometry_types: ['Polygon'],
        bbox: [0, 0, 1, 1],
      });
      expect(geoparquet.wkt).toEqual(['POLYGON ((0 0, 1 0, 1 1, 0 0))', null]);
      const text = (await bytes(publication.files[0]!.key)).toString('utf8');
      expect(text.startsWith('{"type":"FeatureCollection","features":[\n')).toBe(true);
      expect(text.endsWith('\n]}\n')).toBe(true);
      expect(JSON.parse(text).features).toEqual([
        {
          type: 'Feature',
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                [1, 0],
                [1, 1],
                [0, 0],
              ],
            ],
          },
          properties: { note: tricky },
        },
        { type: 'Feature', geometry: null, properties: { note: null } },
      ]);
    } finally {
      await pool.query(`DROP TABLE raw.${polygons}`);
    }
  });

  it('describes the published outputs in a DCAT-AP catalog (JSON-LD and Turtle), computed from the data', async () => {
    const project = testProject([
      {
        id: table.replace(/_/g, '-'),
        schema: { fields: schema.fields },
        config: {
          title: 'Stations',
          description: 'Trois stations',
          theme: ['TRAN'],
          keywords: ['recharge'],
          exports: ['csv', 'parquet'],
        },
      },
    ]);
    // The dataset's relation is this test's table.
    await publishOutput({ pool, s3, bucket }, projectOutputs(project)[0]!, '20261128T130000Z');

    const { jsonld: jsonldKey, turtle: turtleKey } = await publishCatalog({
      pool,
      s3,
      bucket,
      publicBaseUrl: 'https://data.example.org',
      project,
    });

    const document = JSON.parse((await bytes(jsonldKey)).toString('utf8'));
    const expanded = await jsonld.expand(document);
    const DCAT = 'http://www.w3.org/ns/dcat#';
    const DCT = 'http://purl.org/dc/terms/';
    const catalog = expanded.find((node) => (node['@type'] as string[]).includes(`${DCAT}Catalog`))!;
    // DCAT-AP mandatory: catalog title, description, publisher, dataset; dataset title and description.
    for (const property of [`${DCT}title`, `${DCT}description`, `${DCT}publisher`, `${DCAT}dataset`])
      expect(catalog[property], property).toBeDefined();
    const dataset = (catalog[`${DCAT}dataset`] as Record<string, unknown>[])[0]!;
    for (const property of [
      `${DCT}title`,
      `${DCT}description`,
      `${DCAT}contactPoint`,
      `${DCAT}distribution`,
      `${DCT}accrualPeriodicity`,
    ])
      expect(dataset[property], property).toBeDefined();
    // Computed from the data: temporal coverage from the date field, bounding box from the points.
    const compacted = document['dcat:dataset'][0];
    expect(compacted['dct:temporal']).toMatchObject({
      'dcat:startDate': { '@value': '2019-01-02' },
      'dcat:endDate': { '@value': '2023-04-13' },
    });
    expect(compacted['dct:spatial']['dcat:bbox']['@value']).toBe(
      'POLYGON((1.9 41.9,1.9 47.9,8.7 47.9,8.7 41.9,1.9 41.9))',
    );
    expect(compacted['dqv:hasQualityMeasurement']['dqv:value']).toEqual({
      '@value': '3',
      '@type': 'xsd:integer',
    });
    // Each distribution: download URL, media type, size, checksum, licence.
    const distributions = compacted['dcat:distribution'] as Record<string, unknown>[];
    // Each value with the class DCAT-AP 3's range shapes ask for (SHACL does no inference).
    expect(distributions.map((d) => d['dct:format'])).toEqual([
      {
        '@id': 'http://publications.europa.eu/resource/authority/file-type/CSV',
        '@type': 'dct:MediaTypeOrExtent',
      },
      {
        '@id': 'http://publications.europa.eu/resource/authority/file-type/PARQUET',
        '@type': 'dct:MediaTypeOrExtent',
      },
    ]);
    expect(distributions[0]).toMatchObject({
      'dcat:downloadURL': {
        '@id': `https://data.example.org/exports/${table.replace(/_/g, '-')}/latest/${table.replace(/_/g, '-')}.csv`,
        '@type': 'rdfs:Resource',
      },
      'dcat:mediaType': {
        '@id': 'https://www.iana.org/assignments/media-types/text/csv',
        '@type': 'dct:MediaType',
      },
      'dct:license': { '@id': 'https://spdx.org/licenses/etalab-2.0', '@type': 'dct:LicenseDocument' },
      'spdx:checksum': {
        'spdx:algorithm': { '@id': 'spdx:checksumAlgorithm_sha256', '@type': 'spdx:ChecksumAlgorithm' },
        'spdx:checksumValue': { '@value': expect.stringMatching(/^[0-9a-f]{64}$/), '@type': 'xsd:hexBinary' },
      },
    });
    // A readable page per dataset, from its Table Schema and the computed facts.
    const page = (await bytes(`catalog/datasets/${table.replace(/_/g, '-')}.md`)).toString('utf8');
    expect(page).toContain('# Stations');
    expect(page).toContain('| period covered | 2019-01-02 → 2023-04-13 |');
    expect(page).toContain('| `position` | geopoint (array) |');
    expect(page).toMatch(
      /\[.*\.csv\]\(https:\/\/data\.example\.org\/exports\/.*\/latest\/.*\.csv\) — CSV, \d+ bytes, `sha256:[0-9a-f]{64}`/,
    );
    // The Turtle says the same, as RDF.
    const quads = new Parser().parse((await bytes(turtleKey)).toString('utf8'));
    expect(quads.filter((quad) => quad.predicate.value === `${DCAT}downloadURL`)).toHaveLength(2);
  });
});
