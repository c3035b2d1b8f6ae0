import { createInterface } from 'node:readline';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteIdent } from '../../platform/warehouse';
import { csvExpression, jsonExpression, type ExportColumn } from './columns';

export type ExportFormat = 'csv' | 'xlsx' | 'geojson' | 'parquet';

export const mediaTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  geojson: 'application/geo+json',
  parquet: 'application/vnd.apache.parquet',
};

export interface CsvDialectOptions {
  delimiter: ',' | ';';
  /** A byte order mark, so that spreadsheet programs read UTF-8 right. */
  bom: boolean;
}

/** CSV straight from COPY (PostgreSQL formats and quotes it), with the chosen dialect. */
export async function writeCsv(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
  dialect: CsvDialectOptions,
  out: Writable,
): Promise<void> {
  if (dialect.bom) out.write('\uFEFF');
  const select = columns.map(
    (column) => `${csvExpression(column)} AS "${column.name.replaceAll('"', '""')}"`,
  );
  const delimiter = dialect.delimiter === ';' ? `';'` : `','`;
  await pipeline(
    client.query(
      copyTo(
        `COPY (SELECT ${select.join(', ')} FROM ${relation}) TO STDOUT (FORMAT csv, HEADER, DELIMITER ${delimiter})`,
      ),
    ),
    out,
  );
}

/**
 * COPY options that write one text column per line verbatim: JSON never holds these two
 * control characters raw, so nothing is quoted or escaped.
 */
const ONE_TEXT_PER_LINE = `(FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')`;

/**
 * The relation's rows as JSON objects, streamed: COPY writes one JSON document per line
 * (ONE_TEXT_PER_LINE).
 */
export async function* jsonRows(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
): AsyncGenerator<Record<string, unknown>> {
  const select = columns.map(jsonExpression).join(', ');
  const copy = client.query(
    copyTo(
      `COPY (SELECT row_to_json(r)::text FROM (SELECT ${select} FROM ${relation}) AS r)
       TO STDOUT ${ONE_TEXT_PER_LINE}`,
    ),
  );
  const lines = createInterface({ input: copy, crlfDelay: Infinity });
  for await (const line of lines) if (line) yield JSON.parse(line) as Record<string, unknown>;
}

/**
 * RFC 7946 FeatureCollection: the first geometry column is the geometry, the rest properties.
 * PostGIS writes each Feature (ST_AsGeoJSON of the row), one per line as in jsonRows; here
 * the lines are only joined with commas, never parsed again.
 */
export async function writeGeoJson(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
  out: Writable,
): Promise<void> {
  const geometry = columns.find((column) => column.kind === 'geometry')!;
  const shape = '__datacycle_geometry';
  const select = [
    `${quoteIdent(geometry.name)} AS ${quoteIdent(shape)}`,
    ...columns.filter((column) => column !== geometry).map(jsonExpression),
  ];
  // PostGIS writes a missing geometry as {"type": null}; RFC 7946 wants null.
  const feature = `ST_AsGeoJSON(r.*, '${shape}')`;
  const copy = client.query(
    copyTo(
      `COPY (SELECT CASE WHEN r.${quoteIdent(shape)} IS NULL
                    THEN regexp_replace(${feature}, '^\\{"type": "Feature", "geometry": \\{"type": null\\}', '{"type": "Feature", "geometry": null')
                    ELSE ${feature} END
               FROM (SELECT ${select.join(', ')} FROM ${relation}) AS r)
       TO STDOUT ${ONE_TEXT_PER_LINE}`,
    ),
  );
  out.write('{"type":"FeatureCollection","features":[\n');
  let separator = false;
  const joinLines = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (chunk.length === 0) return done();
      // JSON holds no raw newline: each one ends a Feature. The last one gets no comma.
      const ends = chunk[chunk.length - 1] === 0x0a;
      const body = (ends ? chunk.subarray(0, -1) : chunk).toString('latin1').replaceAll('\n', ',\n');
      const text = (separator ? ',\n' : '') + body;
      separator = ends;
      done(null, Buffer.from(text, 'latin1'));
    },
    flush(done) {
      done(null, '\n]}\n');
    },
  });
  await pipeline(copy, joinLines, out);
}

/** What GeoParquet says of one geometry column: its geometry types and bounding box (EPSG:4326). */
export interface GeometryColumnFacts {
  /** GeoParquet's names: Point, LineString, Polygon, MultiPoint, …; empty when unknown. */
  geometryTypes: string[];
  /** [xmin, ymin, xmax, ymax], absent for a column with no geometry. */
  bbox?: [number, number, number, number];
}

/** The version of the GeoParquet specification the exports follow. */
export const GEOPARQUET_VERSION = '1.1.0';

/**
 * The `geo` file metadata of GeoParquet 1.1: each geometry column WKB-encoded, with its
 * geometry types and bounding box; no `crs`, which GeoParquet reads as OGC:CRS84 (longitude,
 * latitude on WGS 84): the warehouse keeps every geometry in EPSG:4326, longitude first.
 */
export function geoParquetMetadata(geometries: Record<string, GeometryColumnFacts>): string | undefined {
  const names = Object.keys(geometries);
  if (names.length === 0) return undefined;
  return JSON.stringify({
    version: GEOPARQUET_VERSION,
    primary_column: names[0],
    columns: Object.fromEntries(
      names.map((name) => {
        const facts = geometries[name]!;
        return [
          name,
          {
            encoding: 'WKB',
            geometry_types: facts.geometryTypes,
            ...(facts.bbox ? { bbox: facts.bbox } : {}),
          },
        ];
      }),
    ),
  });
}

/**
 * Parquet through hyparquet-writer, row group by row group; geometries as WKB with the
 * GeoParquet metadata (`geo`) that GIS tools (QGIS, GDAL, DuckDB spatial, GeoPandas) read.
 */
export async function writeParquet(
  rows: AsyncIterable<Record<string, unknown>>,
  columns: ExportColumn[],
  file: string,
  geometries: Record<string, GeometryColumnFacts> = {},
): Promise<void> {
  const { fileWriter, parquetWriteRows } = await import('hyparquet-writer');
  const geo = geoParquetMetadata(geometries);
  const types = {
    string: 'STRING',
    integer: 'INT64',
    number: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'STRING',
    datetime: 'TIMESTAMP',
    geometry: 'GEOMETRY',
    json: 'JSON',
  } as const;
  async function* typed() {
    for await (const row of rows) {
      const out: Record<string, unknown> = {};
      for (const column of columns) {
        const value = row[column.name];
        out[column.name] =
          value === null || value === undefined
            ? null
            : column.kind === 'integer'
              ? BigInt(value as number)
              : column.kind === 'datetime'
                ? new Date(String(value))
                : value;
      }
      yield out;
    }
  }
  await parquetWriteRows({
    writer: fileWriter(file),
    rows: typed(),
    columns: columns.map((column) => ({ name: column.name, type: types[column.kind], nullable: true })),
    // Small row groups keep the column buffers (and the process) small.
    rowGroupSize: 10_000,
    kvMetadata: geo === undefined ? undefined : [{ key: 'geo', value: geo }],
  });
}
