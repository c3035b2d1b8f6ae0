import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type pg from 'pg';
import { raiseAlert } from '../../platform/events';
import { errorMessage } from '../../platform/errors/errors';
import { pipelineEvents, publishEvent, type EventBus } from '../../platform/events/bus';
import type { Project } from '../../platform/project';
import { finishRun, startRun } from '../../platform/runs/runs';
import {
  emitLineage,
  jobRunEvents,
  lineageNamespace,
  objectDataset,
  outputStatistics,
  relationDataset,
  type LineageDataset,
  type LineageSink,
  type RunEvent,
} from '../../platform/lineage';
import { MeasuredStream, publicBucketUrl, putText } from '../../platform/storage';
import { publishCatalog } from './catalog';
import { publishPortal } from './portal/publish-portal';
import { connect, qualified, quoteIdent } from '../../platform/warehouse';
import { copiedColumn, exportColumns, tableSchemaType, type ExportColumn } from './columns';
import { copyRows } from './copy-rows';
import { projectOutputs, type Output } from './outputs';
import { writeXlsxStream } from './xlsx-writer';
import { writeGeoJson } from './geojson-writer';
import { mediaTypes, writeCsv, type ExportFormat } from './formats';
import { writeParquet, type GeometryColumnFacts } from './parquet-writer';

export interface PublishedFile {
  format: ExportFormat;
  key: string;
  latestKey: string;
  bytes: number;
  sha256: string;
  mediaType: string;
}

export interface Publication {
  name: string;
  version: string;
  rows: number;
  files: PublishedFile[];
  datapackageKey: string;
}

/**
 * Publishes one output: every format it declares (geojson only when it has a geometry),
 * streamed from PostgreSQL into `exports/<name>/<version>/` of the public bucket, with
 * Content-Type, Content-Disposition and sha256, a Frictionless datapackage.json, then the
 * same files under `exports/<name>/latest/`, which a consumer can link to forever.
 */
export async function publishOutput(
  context: {
    pool: pg.Pool;
    s3: S3Client;
    bucket: string;
    /** Told as each format's file is stored under its version (before latest/ follows). */
    onFile?: (file: PublishedFile) => void;
  },
  output: Output,
  version: string,
): Promise<Publication> {
  const client = await connect(context.pool);
  const spool = await mkdtemp(path.join(tmpdir(), 'datacycle-publish-'));
  try {
    // One snapshot for every format: the files agree with each other.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const columns = await exportColumns(client, output.relation, output.tableSchema, output.columnDocs);
    if (columns.length === 0)
      throw new Error(`${output.relation.schema}.${output.relation.name} does not exist`);
    const relation = qualified(output.relation.schema, output.relation.name);
    const { rows: counted } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${relation}`);
    const spatial = columns.some((column) => column.kind === 'geometry');
    const formats = output.formats.filter((format) => format !== 'geojson' || spatial);
    const prefix = `exports/${output.name}/${version}/`;
    const files: PublishedFile[] = [];
    for (const format of formats) {
      const filename = `${output.name}.${format}`;
      const key = `${prefix}${filename}`;
      const measured = new MeasuredStream();
      const body = new PassThrough();
      const upload = new Upload({
        client: context.s3,
        params: {
          Bucket: context.bucket,
          Key: key,
          Body: body,
          ContentType: mediaTypes[format],
          ContentDisposition: `attachment; filename="${filename}"`,
        },
        // Parts of 8 MiB rather than 5: fewer requests for large exports (a 500 MB CSV
        // uploads ~20 % faster), 4 in flight: 32 MiB held at most.
        partSize: UPLOAD_PART_BYTES,
        queueSize: 4,
      }).done();
      measured.pipe(body);
      await writeExport({ client, relation, columns, spool }, output, version, format, measured);
      if (!measured.writableEnded) measured.end();
      await upload;
      const published: PublishedFile = {
        format,
        key,
        latestKey: `exports/${output.name}/latest/${filename}`,
        bytes: measured.bytes,
        sha256: measured.sha256(),
        mediaType: mediaTypes[format],
      };
      files.push(published);
      context.onFile?.(published);
    }
    await client.query('COMMIT');

    const datapackageKey = `${prefix}datapackage.json`;
    await putText(
      context.s3,
      { bucket: context.bucket, key: datapackageKey },
      JSON.stringify(dataPackage(output, version, columns, files), null, 2),
      'application/json; charset=utf-8',
    );
    // latest/ moves only once the whole version is there.
    for (const file of files) await copy(context.s3, context.bucket, file.key, file.latestKey);
    await copy(context.s3, context.bucket, datapackageKey, `exports/${output.name}/latest/datapackage.json`);
    return { name: output.name, version, rows: Number(counted[0]!.n), files, datapackageKey };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
    await rm(spool, { recursive: true, force: true });
  }
}

/**
 * Writes one format of a relation to `out` (and ends it), inside the caller's transaction:
 * CSV and GeoJSON streamed; XLSX and Parquet through a file of `spool` (Parquet's footer comes
 * last), then streamed.
 */
export async function writeExport(
  source: { client: pg.PoolClient; relation: string; columns: ExportColumn[]; spool: string },
  output: Output,
  version: string,
  format: ExportFormat,
  out: Writable,
): Promise<void> {
  const { client, relation, columns, spool } = source;
  if (format === 'csv') await writeCsv(client, relation, columns, output.csv, out);
  else if (format === 'geojson') await writeGeoJson(client, relation, columns, out);
  else {
    const file = path.join(spool, `${output.name}.${format}`);
    if (format === 'xlsx')
      await writeXlsxStream(
        copyRows(
          client,
          relation,
          columns.map((column) => copiedColumn(column, { geometry: 'geojson', numbers: 'text' })),
        ),
        columns,
        about(output, version),
        createWriteStream(file),
      );
    else {
      const copied = columns.map((column) => copiedColumn(column, { geometry: 'wkb', numbers: 'typed' }));
      await writeParquet(
        copyRows(client, relation, copied),
        columns,
        copied.map((column) => column.type),
        file,
        await geometryFacts(client, relation, columns),
      );
    }
    await pipeline(createReadStream(file), out);
    await rm(file, { force: true });
  }
  if (!out.writableEnded) out.end();
}

const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** GeoParquet's names of PostGIS geometry types (GeometryType() answers in capitals). */
const geoParquetTypes: Record<string, string> = {
  POINT: 'Point',
  LINESTRING: 'LineString',
  POLYGON: 'Polygon',
  MULTIPOINT: 'MultiPoint',
  MULTILINESTRING: 'MultiLineString',
  MULTIPOLYGON: 'MultiPolygon',
  GEOMETRYCOLLECTION: 'GeometryCollection',
};

/** Each geometry column's types and extent, read in the export's snapshot, for the GeoParquet metadata. */
async function geometryFacts(
  client: pg.PoolClient,
  relation: string,
  columns: ExportColumn[],
): Promise<Record<string, GeometryColumnFacts>> {
  const facts: Record<string, GeometryColumnFacts> = {};
  for (const column of columns.filter((candidate) => candidate.kind === 'geometry')) {
    const ref = quoteIdent(column.name);
    const { rows } = await client.query<{
      types: string[] | null;
      xmin: number | null;
      ymin: number;
      xmax: number;
      ymax: number;
    }>(
      `SELECT (SELECT array_agg(DISTINCT GeometryType(${ref})) FROM ${relation} WHERE ${ref} IS NOT NULL) AS types,
              ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax
         FROM (SELECT ST_Extent(${ref}) AS e FROM ${relation}) extent`,
    );
    const row = rows[0];
    const types = (row?.types ?? []).map((type) => geoParquetTypes[type]);
    facts[column.name] = {
      // An unknown type (e.g. a curve) leaves the list empty: GeoParquet's "any type".
      geometryTypes: types.every((type) => type !== undefined) ? (types as string[]).sort() : [],
      ...(row && row.xmin !== null ? { bbox: [row.xmin, row.ymin, row.xmax, row.ymax] } : {}),
    };
  }
  return facts;
}

function about(output: Output, version: string): Record<string, string> {
  return {
    title: output.title,
    description: output.description ?? '',
    licence: output.licence,
    version,
    source: output.kind === 'dataset' ? `dataset ${output.name}` : `model ${output.name}`,
  };
}

/**
 * Formats frictionless-py reads through a library of its own (Parquet: pandas), without
 * counting bytes: a declared `bytes` or `hash` there fails its validation, so their size and
 * checksum go under `datacycle:checksum` (the catalog reads them from either place).
 */
const unmeasuredFormats = new Set<ExportFormat>(['parquet']);

/**
 * A Frictionless data package describing the files of one version (Data Package v1,
 * validated by frictionless-py in the tests): the CSV is a tabular data resource with the
 * Table Schema; XLSX, GeoJSON and Parquet are data resources, outside the tabular profile (their
 * cells are typed by their own format: a point is GeoJSON in XLSX, WKB in Parquet).
 */
function dataPackage(output: Output, version: string, columns: ExportColumn[], files: PublishedFile[]) {
  const schema = output.tableSchema ?? {
    fields: columns.map((column) => ({
      name: column.name,
      type: tableSchemaType(column),
      ...(column.description ? { description: column.description } : {}),
    })),
  };
  return {
    profile: 'data-package',
    name: output.name,
    title: output.title,
    ...(output.description ? { description: output.description } : {}),
    version,
    created: new Date().toISOString(),
    licenses: [{ name: output.licence }],
    resources: files.map((file) => {
      const size = { bytes: file.bytes, hash: `sha256:${file.sha256}` };
      return {
        name: `${output.name}-${file.format}`,
        path: path.posix.basename(file.key),
        format: file.format,
        mediatype: file.mediaType.split(';')[0],
        ...(unmeasuredFormats.has(file.format) ? { 'datacycle:checksum': size } : size),
        ...(file.format === 'csv'
          ? {
              profile: 'tabular-data-resource',
              encoding: 'utf-8',
              dialect: { delimiter: output.csv.delimiter, header: true },
              schema,
            }
          : { profile: 'data-resource' }),
      };
    }),
  };
}

async function copy(s3: S3Client, bucket: string, from: string, to: string) {
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: to,
      CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'COPY',
    }),
  );
}

/** The UTC stamp that names a version under exports/<name>/. */
export function publicationVersion(at = new Date()): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * The publish step of a pass: the datasets it took in and the models it rebuilt, each
 * exported in its formats, recorded as a `publish` step of every run the pass served; a
 * failure is recorded and alerted, and leaves the previous `latest/` in place.
 */
export async function publishPass(
  context: {
    pool: pg.Pool;
    s3: S3Client;
    bucket: string;
    project: Project;
    eventBus?: EventBus;
    /** Where each output's OpenLineage run goes (absent: none). */
    lineage?: LineageSink;
  },
  pass: { datasets: string[]; models: string[]; runIds: string[] },
): Promise<{ publications: Publication[]; failed: { name: string; error: string }[] }> {
  const wanted = new Set([...pass.datasets, ...pass.models]);
  const outputs = projectOutputs(context.project).filter(
    (output) => wanted.has(output.name) && output.formats.length > 0,
  );
  const version = publicationVersion();
  for (const id of pass.runIds) {
    await startRun(context.pool, { id, trigger: 'manual', step: 'publish', details: { version } });
  }
  const publications: Publication[] = [];
  const failed: { name: string; error: string }[] = [];
  const lineage: RunEvent[] = [];
  for (const output of outputs) {
    const started = new Date();
    let outcome: Parameters<typeof jobRunEvents>[2] = { status: 'COMPLETE' };
    let files: LineageDataset[] = [];
    try {
      const publication = await publishOutput(context, output, version);
      publications.push(publication);
      files = publication.files.map((file) => ({
        ...objectDataset(context.bucket, file.key),
        outputFacets: outputStatistics(publication.rows, file.bytes),
      }));
    } catch (error) {
      failed.push({ name: output.name, error: errorMessage(error) });
      outcome = { status: 'FAIL', error: errorMessage(error) };
    }
    lineage.push(
      ...jobRunEvents(
        {
          namespace: lineageNamespace(context.project),
          job: `publish.${output.name}`,
          jobType: 'PUBLISH',
          inputs: [
            relationDataset(context.project, output.kind === 'dataset' ? 'source' : 'ref', output.name),
          ],
          outputs: files,
        },
        { started, ended: new Date() },
        outcome,
      ),
    );
  }
  if (context.lineage) await emitLineage(context.lineage, lineage).catch(() => undefined);
  // The catalog and the portal are part of the step: when the step says published, they say
  // so too.
  if (publications.length > 0) {
    try {
      const { facts } = await publishCatalog({ ...context, publicBaseUrl: publicBucketUrl(context.bucket) });
      try {
        await publishPortal(context, facts);
      } catch (error) {
        failed.push({ name: 'portal', error: errorMessage(error) });
      }
    } catch (error) {
      failed.push({ name: 'catalog', error: errorMessage(error) });
    }
  }
  const details = {
    version,
    outputs: publications.map((publication) => ({
      name: publication.name,
      rows: publication.rows,
      files: publication.files.map((file) => file.latestKey),
    })),
    failed,
  };
  const error = failed.length > 0 ? failed.map((f) => `${f.name}: ${f.error}`).join('; ') : undefined;
  for (const id of pass.runIds) {
    await finishRun(context.pool, id, 'publish', failed.length > 0 ? 'failed' : 'succeeded', {
      error,
      details,
    });
  }
  if (failed.length > 0) {
    await raiseAlert(
      { pool: context.pool, eventBus: context.eventBus },
      {
        kind: 'run-failed',
        severity: 'error',
        subject: failed.map((f) => f.name).join(', '),
        runId: pass.runIds[0],
        title: `exports of ${failed.map((f) => f.name).join(', ')} failed: latest/ still holds the previous ones`,
        message: error!,
        hint: 'see the publish step (datacycle run <run id>); the next load publishes again',
      },
    );
  }
  if (publications.length > 0 && context.eventBus) {
    await publishEvent(context.eventBus, pipelineEvents.outputsPublished, {
      outputs: publications.map((publication) => publication.name),
      version,
      runIds: pass.runIds,
    });
  }
  return { publications, failed };
}
