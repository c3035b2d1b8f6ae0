import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import {
  emitLineage,
  jobRunEvents,
  lineageNamespace,
  objectDataset,
  outputStatistics,
  projectLineageSink,
  relationDataset,
  schemaFacets,
} from '../../platform/lineage';
import type { Logger } from '../../platform/logging';
import { raiseAlert, type AlertContext } from '../../platform/events';
import { pipelineEvents, publishEvent } from '../../platform/events/bus';
import { TerminalError, errorMessage, isTransient } from '../../platform/errors/errors';
import { openTables } from '../../platform/formats';
import { findDatasetByKey, type Dataset, type Project } from '../../platform/project';
import {
  RUN_ID_METADATA,
  closeInterruptedSteps,
  findFileBySource,
  findLoadedFile,
  finishRun,
  finishStep,
  newRunId,
  recordFile,
  startRun,
} from '../../platform/runs/runs';
import {
  copyObject,
  deleteObject,
  hashObject,
  isNotFound,
  putJson,
  putText,
  readObject,
  zoneKeys,
  type ObjectRef,
} from '../../platform/storage/buckets';
import {
  datasetTableName,
  findForeignKeyViolations,
  inTransaction,
  loadTable,
} from '../../platform/warehouse';
import { type IngestReport, type Verdict } from './report';
import { renderReportMarkdown } from './report-markdown';
import { FileValidation, HeaderMismatch } from './validate-file';
import { validationWorkers } from './validation-pool';
import { StartedValidationWorkers } from './validation-threads';

export interface Buckets {
  landing: string;
  raw: string;
  internal: string;
  public: string;
}

/** What ingestion needs from the outside world, created once per container. */
export interface IngestContext {
  s3: S3Client;
  pool: pg.Pool;
  project: Project;
  buckets: Buckets;
  /** Bytes a compressed file or archive may expand to (default 4 GiB). */
  maxUncompressedBytes?: number;
  /** Where progress is logged (nowhere when absent). */
  log?: Logger;
  /** Where alerts go (see raiseAlert); without it they are only recorded in ops.alerts. */
  eventBus?: AlertContext['eventBus'];
}

export type IngestOutcome =
  | { status: Verdict; runId: string; dataset: string; rowsLoaded: number; reportKey: string }
  | { status: 'ignored'; reason: string };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Thrown inside the load transaction to roll it back when the file must be rejected. */
class RejectFile extends Error {}

/** Thrown inside the load transaction when another delivery loaded the same content first. */
class AlreadyLoaded extends Error {
  constructor(readonly runId: string) {
    super(`already loaded by run ${runId}`);
  }
}

/**
 * Ingests one object dropped in the landing bucket: keeps an immutable copy in raw/, checks
 * it against the dataset's Table Schema, loads it with COPY in one transaction (or moves it
 * to quarantine/), writes a report and records everything in ops. Safe to call twice for the
 * same object or the same content.
 */
export async function ingestObject(
  context: IngestContext,
  source: ObjectRef,
  delivery: { redelivered?: boolean } = {},
): Promise<IngestOutcome> {
  const { s3, pool, project, buckets } = context;
  const log = context.log;
  const dataset = findDatasetByKey(project, source.key);
  if (!dataset) {
    log?.warn('no dataset declares this prefix; file left in landing', { key: source.key });
    return { status: 'ignored', reason: `no dataset declares a source prefix matching "${source.key}"` };
  }

  let content: Awaited<ReturnType<typeof hashObject>>;
  try {
    content = await hashObject(s3, source);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const previous = await findFileBySource(pool, source.bucket, source.key);
    return previous
      ? { status: 'ignored', reason: `already handled by run ${previous.run_id} (${previous.status})` }
      : { status: 'ignored', reason: 'object no longer exists' };
  }

  // A collected or pushed file carries the run that fetched it: ingestion is its next step.
  const carried = content.metadata[RUN_ID_METADATA];
  const runId = carried && uuidPattern.test(carried) ? carried : newRunId();
  const startedAt = new Date();
  // Before this attempt's own step exists: only an earlier attempt's can be left running.
  if (delivery.redelivered) {
    const interrupted = await closeInterruptedSteps(pool, 'ingest', { subject: dataset.id, source }, [runId]);
    if (interrupted.length > 0)
      log?.warn('closed the runs an interrupted attempt left running', { interrupted });
  }
  await startRun(pool, {
    step: 'ingest',
    id: runId,
    trigger: 's3',
    dataset: dataset.id,
    details: { source },
  });
  const filename = path.posix.basename(source.key);
  const reportKey = zoneKeys.report(dataset.id, runId);
  const base = {
    version: 1 as const,
    runId,
    dataset: dataset.id,
    source,
    sha256: content.sha256,
    sizeBytes: content.size,
    startedAt: startedAt.toISOString(),
  };

  try {
    const previous = await findLoadedFile(pool, dataset.id, content.sha256, dataset.config.load.mode);
    if (previous) {
      const report: IngestReport = {
        ...base,
        verdict: 'duplicate',
        summary: `same content already loaded by run ${previous.run_id}; nothing loaded`,
        rows: { read: 0, valid: 0, invalid: 0, loaded: 0 },
        errorCounts: {},
        errors: [],
        finishedAt: new Date().toISOString(),
      };
      await finalize(context, report, reportKey);
      return { status: 'duplicate', runId, dataset: dataset.id, rowsLoaded: 0, reportKey };
    }

    const raw = { bucket: buckets.raw, key: zoneKeys.raw(dataset.id, content.sha256, filename) };
    await copyObject(s3, source, raw);
    const report = await validateAndLoad(context, dataset, { raw, source, runId, reportKey, ...content });
    const full: IngestReport = { ...base, ...report, raw, finishedAt: new Date().toISOString() };
    if (full.verdict === 'rejected') {
      full.quarantine = {
        bucket: buckets.internal,
        key: zoneKeys.quarantine(dataset.id, content.sha256, filename),
      };
      await copyObject(s3, raw, full.quarantine);
    }
    await finalize(context, full, reportKey);
    log?.info(full.summary, { runId, dataset: dataset.id, verdict: full.verdict });
    return { status: full.verdict, runId, dataset: dataset.id, rowsLoaded: full.rows.loaded, reportKey };
  } catch (error) {
    // Errors propagate: a transient one is retried (a new step of the same run), so only the
    // step fails; a terminal one that escaped the checks above fails the run.
    const end = isTransient(error) ? finishStep : finishRun;
    await end(pool, runId, 'ingest', 'failed', { error: errorMessage(error) }).catch(() => undefined);
    throw error;
  }
}

type PartialReport = Pick<
  IngestReport,
  'verdict' | 'summary' | 'rows' | 'errorCounts' | 'errors' | 'dialect' | 'tables'
>;

interface FileToLoad {
  raw: ObjectRef;
  source: ObjectRef;
  runId: string;
  reportKey: string;
  sha256: string;
  size: number;
}

async function validateAndLoad(
  context: IngestContext,
  dataset: Dataset,
  file: FileToLoad,
): Promise<PartialReport> {
  const { raw, source, runId } = file;
  // A large file's validation workers boot while its start is read and its table prepared
  // (a cold worker takes 25-150 ms); those a CSV table does not take are stopped at the end.
  const started = StartedValidationWorkers.forFile(file.size, validationWorkers());
  const validation = new FileValidation(dataset.tableSchema, dataset.id, { started });
  const { collector, rows } = validation;
  const reject = (summary: string): PartialReport => ({
    verdict: 'rejected',
    summary,
    rows,
    errorCounts: collector.counts,
    errors: collector.kept,
    dialect: validation.dialect,
    tables: validation.tables,
  });
  const policy = dataset.config.onInvalid;
  const format = dataset.config.format ?? {};
  const input = openTables(await readObject(context.s3, raw), {
    name: path.posix.basename(raw.key),
    csv: { encoding: format.encoding, delimiter: format.delimiter, utf8Bytes: true },
    sheet: format.sheet,
    maxUncompressedBytes: context.maxUncompressedBytes,
  });

  try {
    await inTransaction(context.pool, async (client) => {
      // One load at a time per dataset; then the idempotence check cannot race.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`datacycle:load:${dataset.id}`]);
      const concurrent = await findLoadedFile(client, dataset.id, file.sha256, dataset.config.load.mode);
      if (concurrent) throw new AlreadyLoaded(concurrent.run_id);
      const { rowsLoaded } = await loadTable(client, {
        schemaName: 'raw',
        table: datasetTableName(dataset.id),
        tableSchema: dataset.tableSchema,
        mode: dataset.config.load.mode,
        copyRows: validation.copyRows(input, { loadId: runId, sourceKey: source.key }),
        released: validation.released,
      });
      rows.loaded = rowsLoaded;
      const foreign = await findForeignKeyViolations(
        client,
        {
          schemaName: 'raw',
          table: datasetTableName(dataset.id),
          tableSchema: dataset.tableSchema,
          loadId: runId,
        },
        (resource) => ({ schemaName: 'raw', table: datasetTableName(resource) }),
        { remove: policy.policy === 'load-valid' },
      );
      if (foreign.count > 0) {
        collector.addCounted(foreign.violations, foreign.count);
        rows.invalid += foreign.count;
        rows.valid -= foreign.count;
        if (policy.policy === 'load-valid') rows.loaded -= foreign.count;
      }
      if (rows.read === 0) {
        collector.add({ type: 'file-error', message: 'the file has a header but no data rows' });
        throw new RejectFile();
      }
      const errorRate = rows.invalid / rows.read;
      if (rows.invalid > 0 && (policy.policy === 'reject' || errorRate > policy.maxErrorRate))
        throw new RejectFile();
      // Recorded in the same transaction as the rows: loaded once, or not at all.
      await recordFile(client, {
        runId,
        dataset: dataset.id,
        sourceBucket: source.bucket,
        sourceKey: source.key,
        sha256: file.sha256,
        sizeBytes: file.size,
        rawKey: raw.key,
        status: 'loaded',
        rowsLoaded,
        reportKey: file.reportKey,
      });
    });
  } catch (error) {
    if (error instanceof AlreadyLoaded) {
      return {
        verdict: 'duplicate',
        summary: `same content loaded meanwhile by run ${error.runId}; nothing loaded`,
        rows: { read: 0, valid: 0, invalid: 0, loaded: 0 },
        errorCounts: {},
        errors: [],
      };
    }
    if (error instanceof HeaderMismatch) {
      rows.loaded = 0;
      return reject(error.message);
    }
    if (error instanceof RejectFile) {
      rows.loaded = 0;
      const why =
        rows.read === 0
          ? 'the file has no data rows'
          : `${rows.invalid} of ${rows.read} rows are invalid` +
            (policy.policy === 'load-valid' ? ` (more than the allowed ${policy.maxErrorRate * 100}%)` : '');
      return reject(`file rejected, nothing loaded: ${why}`);
    }
    if (error instanceof TerminalError) {
      rows.loaded = 0;
      collector.add({ type: 'file-error', message: error.message, hint: error.hint });
      return reject(`file rejected, nothing loaded: ${error.message}`);
    }
    if (isDataError(error)) {
      rows.loaded = 0;
      collector.add({ type: 'file-error', message: `PostgreSQL refused the data: ${errorMessage(error)}` });
      return reject(`file rejected, nothing loaded: ${errorMessage(error)}`);
    }
    throw error;
  } finally {
    await started.close();
  }
  const skipped = rows.invalid > 0 ? `, ${rows.invalid} invalid rows skipped` : '';
  return {
    verdict: 'loaded',
    summary: `${rows.loaded} rows loaded into raw.${datasetTableName(dataset.id)} (${dataset.config.load.mode})${skipped}`,
    rows,
    errorCounts: collector.counts,
    errors: collector.kept,
    dialect: validation.dialect,
    tables: validation.tables,
  };
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation) are the file's fault. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === 'XX000');
}

async function finalize(context: IngestContext, report: IngestReport, reportKey: string): Promise<void> {
  const { s3, pool, buckets } = context;
  await putJson(s3, { bucket: buckets.internal, key: reportKey }, report);
  await putText(
    s3,
    { bucket: buckets.internal, key: zoneKeys.reportMarkdown(reportKey) },
    renderReportMarkdown(report),
    'text/markdown; charset=utf-8',
  );
  // A loaded file was recorded inside its load transaction.
  if (report.verdict !== 'loaded')
    await recordFile(pool, {
      runId: report.runId,
      dataset: report.dataset,
      sourceBucket: report.source.bucket,
      sourceKey: report.source.key,
      sha256: report.sha256,
      sizeBytes: report.sizeBytes,
      rawKey: report.raw?.key,
      status: report.verdict,
      rowsLoaded: report.rows.loaded,
      reportKey,
      error: report.verdict === 'rejected' ? report.summary : undefined,
    });
  await finishRun(
    pool,
    report.runId,
    'ingest',
    report.verdict === 'rejected' ? 'failed' : report.verdict === 'duplicate' ? 'skipped' : 'succeeded',
    {
      error: report.verdict === 'rejected' ? report.summary : undefined,
      details: { verdict: report.verdict, rows: report.rows, reportKey },
    },
  );
  if (report.verdict === 'loaded' && context.eventBus) {
    // The next step (transform) starts from this event, in the same run.
    try {
      await publishEvent(context.eventBus, pipelineEvents.datasetLoaded, {
        dataset: report.dataset,
        runId: report.runId,
        rows: report.rows.loaded,
      });
    } catch (error) {
      await raiseAlert(
        { pool, eventBus: context.eventBus },
        {
          kind: 'run-failed',
          severity: 'error',
          subject: report.dataset,
          runId: report.runId,
          title: `${report.dataset} was loaded but its models were not rebuilt`,
          message: `the dataset.loaded event could not be published: ${errorMessage(error)}`,
          hint: 'run `datacycle transform <project> --dataset <id>` once the event bus is reachable',
        },
      );
    }
  }
  if (report.verdict === 'rejected') {
    await raiseAlert(
      { pool, eventBus: context.eventBus },
      {
        kind: 'file-rejected',
        severity: 'error',
        subject: report.dataset,
        runId: report.runId,
        title: `${report.source.key} was rejected: nothing loaded into ${report.dataset}`,
        message: report.summary,
        hint: `the report lists every problem with its row and field: s3://${buckets.internal}/${zoneKeys.reportMarkdown(reportKey)}`,
        details: { reportKey, rows: report.rows, errorCounts: report.errorCounts },
      },
    );
  }
  await emitIngestLineage(context, report);
  // Landing is an inbox: the original now lives in raw/ (and quarantine/ when rejected).
  await deleteObject(s3, report.source);
}

/**
 * The ingest job's OpenLineage run (its id is the datacycle run's): the landed file in, the
 * raw table out with its schema and the rows loaded; FAIL for a rejected file.
 */
async function emitIngestLineage(context: IngestContext, report: IngestReport): Promise<void> {
  const { project } = context;
  const dataset = project.datasets.find((candidate) => candidate.id === report.dataset);
  if (!dataset) return;
  const output = relationDataset(project, 'source', dataset.id);
  output.facets = schemaFacets(
    dataset.tableSchema.fields.map((field) => ({
      name: field.name,
      type: field.type ?? 'any',
      ...(field.description ? { description: field.description } : {}),
    })),
    dataset.config.description,
  );
  if (report.verdict === 'loaded')
    output.outputFacets = outputStatistics(report.rows.loaded, report.sizeBytes);
  const events = jobRunEvents(
    {
      namespace: lineageNamespace(project),
      job: `ingest.${dataset.id}`,
      jobType: 'INGEST',
      runId: report.runId,
      inputs: [objectDataset(report.source.bucket, report.source.key)],
      outputs: [output],
    },
    { started: new Date(report.startedAt), ended: new Date(report.finishedAt) },
    report.verdict === 'rejected' ? { status: 'FAIL', error: report.summary } : { status: 'COMPLETE' },
  );
  await emitLineage(projectLineageSink(project, context.s3, context.buckets.internal), events).catch(
    () => undefined,
  );
}
