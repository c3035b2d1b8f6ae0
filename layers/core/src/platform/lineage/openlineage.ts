import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { guardedFetch, type NetworkPolicy } from '../net/guard';
import type { Project } from '../project/types';
import { datasetTableName } from '../warehouse/sql';

/**
 * OpenLineage 2-0-2 run events (https://openlineage.io/spec/2-0-2/OpenLineage.json), with the
 * facets datacycle knows: schema, documentation, output statistics, column lineage, data
 * quality assertions, job type, SQL, error message. Marquez and DataHub take them as they are.
 */
export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const PRODUCER = 'https://github.com/datacycle/datacycle';
const facet = (name: string, version: string) => ({
  _producer: PRODUCER,
  _schemaURL: `https://openlineage.io/spec/facets/${version}/${name}.json#/$defs/${name}`,
});

export type EventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

export interface LineageDataset {
  namespace: string;
  name: string;
  facets?: Record<string, unknown>;
  inputFacets?: Record<string, unknown>;
  outputFacets?: Record<string, unknown>;
}

export interface RunEvent {
  eventType: EventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: Record<string, unknown> };
  job: { namespace: string; name: string; facets?: Record<string, unknown> };
  inputs: LineageDataset[];
  outputs: LineageDataset[];
}

/** Where a job's events go: its names and the datasets it reads and writes. */
export interface JobRun {
  namespace: string;
  job: string;
  /** What kind of job (JobTypeJobFacet.jobType): COLLECT, INGEST, MODEL, TEST, PUBLISH. */
  jobType: string;
  /** The language of its code, when it has some (SQL, PYTHON, R). */
  sql?: string;
  runId?: string;
  inputs?: LineageDataset[];
  outputs?: LineageDataset[];
}

/** The START and the final event (COMPLETE, or FAIL with its error) of one job run. */
export function jobRunEvents(
  run: JobRun,
  times: { started: Date; ended: Date },
  outcome: { status: 'COMPLETE' } | { status: 'FAIL' | 'ABORT'; error: string },
): RunEvent[] {
  const runId = run.runId ?? randomUUID();
  const job = {
    namespace: run.namespace,
    name: run.job,
    facets: {
      jobType: {
        ...facet('JobTypeJobFacet', '2-0-4'),
        processingType: 'BATCH',
        integration: 'DATACYCLE',
        jobType: run.jobType,
      },
      ...(run.sql ? { sql: { ...facet('SQLJobFacet', '1-1-0'), query: run.sql } } : {}),
    },
  };
  const base = { producer: PRODUCER, schemaURL: OPENLINEAGE_SCHEMA_URL, job };
  // START knows what the job reads and will write, not what came of it.
  const bare = (datasets: LineageDataset[] = []) =>
    datasets.map(({ namespace, name }) => ({ namespace, name }));
  return [
    {
      ...base,
      eventType: 'START',
      eventTime: times.started.toISOString(),
      run: { runId },
      inputs: bare(run.inputs),
      outputs: bare(run.outputs),
    },
    {
      ...base,
      eventType: outcome.status,
      eventTime: times.ended.toISOString(),
      run: {
        runId,
        ...(outcome.status !== 'COMPLETE'
          ? {
              facets: {
                errorMessage: {
                  ...facet('ErrorMessageRunFacet', '1-0-1'),
                  message: outcome.error,
                  programmingLanguage: 'TypeScript',
                },
              },
            }
          : {}),
      },
      inputs: run.inputs ?? [],
      outputs: outcome.status === 'COMPLETE' ? (run.outputs ?? []) : bare(run.outputs),
    },
  ];
}

/** Dataset facets: its columns, its documentation. */
export function schemaFacets(
  columns: { name: string; type: string; description?: string }[],
  description?: string,
): Record<string, unknown> {
  return {
    schema: {
      ...facet('SchemaDatasetFacet', '1-2-0'),
      fields: columns.map((column, index) => ({
        name: column.name,
        type: column.type,
        ...(column.description ? { description: column.description } : {}),
        ordinal_position: index + 1,
      })),
    },
    ...(description
      ? { documentation: { ...facet('DocumentationDatasetFacet', '1-1-0'), description } }
      : {}),
  };
}

/** Output facet: the rows written. */
export function outputStatistics(rowCount: number, size?: number): Record<string, unknown> {
  return {
    outputStatistics: {
      ...facet('OutputStatisticsOutputDatasetFacet', '1-0-2'),
      rowCount,
      ...(size !== undefined ? { size } : {}),
    },
  };
}

/** Dataset facet: each output column and the input columns it is computed from. */
export function columnLineage(
  fields: Record<string, { namespace: string; name: string; field: string }[]>,
): Record<string, unknown> {
  return {
    columnLineage: {
      ...facet('ColumnLineageDatasetFacet', '1-2-0'),
      fields: Object.fromEntries(
        Object.entries(fields).map(([name, inputs]) => [name, { inputFields: inputs }]),
      ),
    },
  };
}

/** Input facet: the data tests run on a dataset and whether they passed. */
export function qualityAssertions(
  assertions: { assertion: string; success: boolean; column?: string; severity: string; name: string }[],
): Record<string, unknown> {
  return { dataQualityAssertions: { ...facet('DataQualityAssertionsDatasetFacet', '1-1-0'), assertions } };
}

/** Where events go: JSON files in the internal bucket, and an HTTP endpoint when configured. */
export interface LineageSink {
  s3: S3Client;
  bucket: string;
  /** An OpenLineage HTTP endpoint (Marquez: …/api/v1/lineage); none: files only. */
  url?: string;
  network: NetworkPolicy;
}

export const LINEAGE_PREFIX = 'lineage/';

/**
 * Writes each event to `lineage/<day>/<job>/<runId>-<type>.json` and posts it to the endpoint.
 * Lineage never fails the pipeline: what could not be sent is logged and stays in the bucket.
 */
export async function emitLineage(sink: LineageSink, events: RunEvent[]): Promise<void> {
  for (const event of events) {
    const key = `${LINEAGE_PREFIX}${event.eventTime.slice(0, 10)}/${event.job.name}/${event.run.runId}-${event.eventType}.json`;
    const body = JSON.stringify(event);
    try {
      await sink.s3.send(
        new PutObjectCommand({ Bucket: sink.bucket, Key: key, Body: body, ContentType: 'application/json' }),
      );
    } catch (error) {
      console.error(
        JSON.stringify({ level: 'warn', message: 'lineage event not stored', key, error: String(error) }),
      );
    }
    if (!sink.url) continue;
    try {
      const response = await guardedFetch(
        sink.url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        },
        sink.network,
      );
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      console.error(
        JSON.stringify({
          level: 'warn',
          message: 'lineage event not sent',
          url: sink.url,
          key,
          error: String(error),
        }),
      );
    }
  }
}

/** The lineage sink of a deployed project: its internal bucket, its endpoint if any. */
export function projectLineageSink(project: Project, s3: S3Client, internalBucket: string): LineageSink {
  return { s3, bucket: internalBucket, url: project.config.lineage.url, network: project.config.network };
}

/** The namespace of a project's jobs and warehouse datasets. */
export const lineageNamespace = (project: Project) =>
  project.config.lineage.namespace ?? `datacycle/${project.config.name}`;

/** A relation of the warehouse as an OpenLineage dataset: schema.table in the project's namespace. */
export const relationDataset = (project: Project, kind: 'ref' | 'source', name: string): LineageDataset => ({
  namespace: lineageNamespace(project),
  name: kind === 'source' ? `raw.${datasetTableName(name)}` : `enriched.${name}`,
});

/** An S3 object as an OpenLineage dataset (s3://bucket, key). */
export const objectDataset = (bucket: string, key: string): LineageDataset => ({
  namespace: `s3://${bucket}`,
  name: key,
});
