/**
 * The other input formats against CSV: the same generated IRVE rows written as NDJSON, a JSON
 * array, a GeoJSON FeatureCollection, an XLSX workbook and a Parquet file of text columns
 * (once, kept beside the CSV), then
 * validated by `datacycle validate`'s engine, each in its own process.
 */
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import Papa from 'papaparse';

export interface FormatBench {
  rows: number;
  formats: {
    format: string;
    megabytes: number;
    seconds: number;
    rowsPerSecond: number;
    vsCsv: number;
    peakRssMb: number;
  }[];
}

interface Measure {
  seconds: number;
  rows: number;
  maxRssMb: number;
}

/** Writes each format of `csvFile` next to it (when missing), then times the validation of each. */
export async function benchFormats(
  csvFile: string,
  schemaFile: string,
  validate: (file: string, schemaFile: string) => Measure,
): Promise<FormatBench> {
  const base = csvFile.replace(/\.csv$/, '');
  const files = {
    csv: csvFile,
    ndjson: `${base}.ndjson`,
    json: `${base}.json`,
    geojson: `${base}.geojson`,
    xlsx: `${base}.xlsx`,
    parquet: `${base}.parquet`,
  };
  // GeoJSON carries the point twice: as the feature's geometry and in the coordonneesXY property.
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { fields: { name: string; type: string }[] };
  const geoSchemaFile = `${base}.geojson-schema.json`;
  writeFileSync(
    geoSchemaFile,
    JSON.stringify({ ...schema, fields: [...schema.fields, { name: 'geometry', type: 'geojson' }] }),
  );
  if (!Object.values(files).every((file) => existsSync(file))) {
    process.stdout.write('› writing the same rows as NDJSON, JSON, GeoJSON, XLSX and Parquet… ');
    await writeFormats(csvFile, files);
    console.log('done');
  }
  const csv = validate(files.csv, schemaFile);
  const rate = (m: Measure) => Math.round(m.rows / m.seconds);
  const formats = Object.entries(files).map(([format, file]) => {
    const measure =
      format === 'csv' ? csv : validate(file, format === 'geojson' ? geoSchemaFile : schemaFile);
    if (measure.rows !== csv.rows)
      throw new Error(`${format}: ${measure.rows} rows read, ${csv.rows} in the CSV`);
    return {
      format,
      megabytes: Math.round(readFileSync(file).byteLength / 1e6),
      seconds: Math.round(measure.seconds * 100) / 100,
      rowsPerSecond: rate(measure),
      vsCsv: Math.round((rate(measure) / rate(csv)) * 100) / 100,
      peakRssMb: measure.maxRssMb,
    };
  });
  return { rows: csv.rows, formats };
}

async function writeFormats(
  csvFile: string,
  files: Record<'ndjson' | 'json' | 'geojson' | 'xlsx' | 'parquet', string>,
) {
  const parsed = Papa.parse<Record<string, string>>(readFileSync(csvFile, 'utf8'), {
    header: true,
    skipEmptyLines: true,
  });
  const records = parsed.data;
  const header = parsed.meta.fields!;
  const lines = async (
    file: string,
    head: string,
    items: Iterable<string>,
    separator: string,
    tail: string,
  ) => {
    const out = createWriteStream(file);
    out.write(head);
    let first = true;
    for (const item of items) {
      if (!out.write((first ? '' : separator) + item)) await once(out, 'drain');
      first = false;
    }
    out.end(tail);
    await finished(out);
  };
  const json = function* () {
    for (const record of records) yield JSON.stringify(record);
  };
  await lines(files.ndjson, '', json(), '\n', '\n');
  await lines(files.json, '[\n', json(), ',\n', '\n]\n');
  await lines(
    files.geojson,
    '{"type":"FeatureCollection","features":[\n',
    (function* () {
      for (const record of records) {
        const point = /^\[([-\d.]+),([-\d.]+)\]$/.exec(record.coordonneesXY ?? '');
        const geometry = point ? { type: 'Point', coordinates: [Number(point[1]), Number(point[2])] } : null;
        yield JSON.stringify({ type: 'Feature', geometry, properties: record });
      }
    })(),
    ',\n',
    '\n]}\n',
  );
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: files.xlsx });
  const sheet = workbook.addWorksheet('irve');
  sheet.addRow(header).commit();
  for (const record of records) sheet.addRow(header.map((name) => record[name] ?? '')).commit();
  await workbook.commit();
  const { parquetWriteFile } = await import('hyparquet-writer');
  parquetWriteFile({
    filename: files.parquet,
    columnData: header.map((name) => ({
      name,
      data: records.map((record) => (record[name] === '' ? null : (record[name] ?? null))),
      type: 'STRING' as const,
    })),
  });
}
