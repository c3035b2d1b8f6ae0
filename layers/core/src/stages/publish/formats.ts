import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { csvExpression, type ExportColumn } from './columns';
import { readCell, type Cell, type CellBatch, type CellType } from './copy-rows';

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

/** YYYY-MM-DD of a day number (days since 1970-01-01), remembered: dates repeat down a column. */
export function dayText(): (days: number) => string {
  const known = new Map<number, string>();
  return (days) => {
    let text = known.get(days);
    if (text === undefined) {
      if (known.size > 10_000) known.clear();
      text = new Date(days * 86_400_000).toISOString().slice(0, 10);
      known.set(days, text);
    }
    return text;
  };
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

/** Rows per Parquet row group: small groups keep the column buffers (and the process) small. */
const ROW_GROUP_ROWS = 10_000;

/**
 * Parquet through hyparquet-writer, row group by row group, from copyRows's batches of the
 * columns read with copiedColumn(…, { geometry: 'wkb', numbers: 'typed' }) (their `types`):
 * columns are filled straight from them; geometries as the WKB PostGIS writes (ST_AsBinary), with the GeoParquet metadata
 * (`geo`) that GIS tools (QGIS, GDAL, DuckDB spatial, GeoPandas) read.
 */
export async function writeParquet(
  batches: AsyncIterable<CellBatch>,
  columns: ExportColumn[],
  types: CellType[],
  file: string,
  geometries: Record<string, GeometryColumnFacts> = {},
): Promise<void> {
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
  const geo = geoParquetMetadata(geometries);
  const parquetTypes = {
    string: 'STRING',
    integer: 'INT64',
    number: 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'STRING',
    datetime: 'TIMESTAMP',
    // GeoParquet 1.1's encoding: WKB in a plain byte array.
    geometry: 'BYTE_ARRAY',
    json: 'JSON',
  } as const;
  const day = dayText();
  const value: ((cell: Cell) => unknown)[] = columns.map((column) => {
    if (column.kind === 'date') return (cell) => day(cell as number);
    if (column.kind === 'datetime') return (cell) => new Date(cell as number);
    if (column.kind === 'json') return (cell) => JSON.parse(cell as string) as unknown;
    return (cell) => cell;
  });
  const empty = () => columns.map(() => [] as unknown[]);
  const columnData = (data: unknown[][]) =>
    columns.map((column, index) => ({
      name: column.name,
      data: data[index]!,
      type: parquetTypes[column.kind],
      nullable: true,
    }));
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    schema: schemaFromColumnData({ columnData: columnData(empty()) }),
    kvMetadata: geo === undefined ? undefined : [{ key: 'geo', value: geo }],
  });
  let group = empty();
  let count = 0;
  for await (const batch of batches) {
    // Column by column, straight from the batch's bytes: no row objects in between.
    for (let first = 0; first < batch.rows;) {
      const rows = Math.min(batch.rows - first, ROW_GROUP_ROWS - count);
      for (let column = 0; column < columns.length; column++) {
        const data = group[column]!;
        const convert = value[column]!;
        for (let row = first; row < first + rows; row++) {
          const cell = readCell(batch, row * batch.columns + column, types[column]!);
          data.push(cell === null ? null : convert(cell));
        }
      }
      first += rows;
      count += rows;
      if (count === ROW_GROUP_ROWS) {
        await writer.write({ columnData: columnData(group), rowGroupSize: count });
        group = empty();
        count = 0;
      }
    }
  }
  if (count > 0) await writer.write({ columnData: columnData(group), rowGroupSize: count });
  writer.finish();
}
