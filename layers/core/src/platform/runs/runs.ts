import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export type FileStatus = 'loaded' | 'rejected' | 'duplicate';

/** The S3 user metadata that carries a run id from the step that wrote an object to the next. */
export const RUN_ID_METADATA = 'datacycle-run-id';

export function newRunId(): string {
  return randomUUID();
}

/** What works on a run: each records a step (see ops.run_steps). */
/** A row of ops.runs, as pg returns it. */
export interface RunRow {
  id: string;
  trigger: string;
  dataset: string | null;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
}

export type StepName = 'collect' | 'push' | 'ingest' | 'transform' | 'test' | 'publish';

/**
 * Starts a step of a run, creating the run when this step is its first (a schedule, a push
 * or a drop starts it; later steps join it through the run id carried by the landing object).
 * A run that a step joins is running again until that step ends: a collected file's run is
 * not over while its ingestion goes on.
 */
export async function startRun(
  db: pg.Pool | pg.PoolClient,
  run: { id: string; trigger: string; dataset?: string; step: StepName; details?: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `INSERT INTO ops.runs (id, trigger, dataset, status, details) VALUES ($1, $2, $3, 'running', $4)
     ON CONFLICT (id) DO UPDATE SET status = 'running', finished_at = NULL`,
    [run.id, run.trigger, run.dataset ?? null, JSON.stringify(run.details ?? {})],
  );
  await db.query(
    `INSERT INTO ops.run_steps (run_id, step, subject, status, details) VALUES ($1, $2, $3, 'running', $4)`,
    [run.id, run.step, run.dataset ?? null, JSON.stringify(run.details ?? {})],
  );
}

/**
 * Ends the step in progress, and brings the run's status up to date from its steps, each
 * step (collect, ingest, ...) by its latest attempt (a retried step's failed attempt is
 * superseded): running while one is, otherwise as bad as its worst (failed > succeeded >
 * skipped), whatever order its steps finish in. One statement: nobody sees the step ended
 * and its run not yet judged.
 */
export async function finishRun(
  db: pg.Pool | pg.PoolClient,
  runId: string,
  step: StepName,
  status: Exclude<RunStatus, 'running'>,
  outcome: { error?: string; details?: Record<string, unknown> } = {},
): Promise<void> {
  // The statement's parts read the table as it was before it: the step just ended is taken
  // from `ended`, not from ops.run_steps.
  await db.query(
    `WITH ended AS (${END_STEP} RETURNING id, step, status),
     steps AS (
       SELECT id, step, status FROM ops.run_steps WHERE run_id = $1 AND id NOT IN (SELECT id FROM ended)
       UNION ALL SELECT id, step, status FROM ended
     ),
     latest AS (SELECT DISTINCT ON (step) status FROM steps ORDER BY step, id DESC),
     judged AS (
       SELECT CASE WHEN bool_or(status = 'running') THEN 'running'
                   WHEN bool_or(status = 'failed') THEN 'failed'
                   WHEN bool_or(status = 'succeeded') THEN 'succeeded'
                   ELSE 'skipped' END AS status
       FROM latest
     )
     UPDATE ops.runs SET status = judged.status,
       finished_at = CASE WHEN judged.status = 'running' THEN NULL ELSE now() END,
       error = COALESCE($4, error), details = details || $5::jsonb
     FROM judged WHERE id = $1`,
    stepParameters(runId, step, status, outcome),
  );
}

/** Ends the step in progress without judging the run (a retry of the step will follow). */
export async function finishStep(
  db: pg.Pool | pg.PoolClient,
  runId: string,
  step: StepName,
  status: Exclude<RunStatus, 'running'>,
  outcome: { error?: string; details?: Record<string, unknown> } = {},
): Promise<void> {
  await db.query(END_STEP, stepParameters(runId, step, status, outcome));
}

/** Ends a run's latest running attempt of a step ($1 run, $2 step, $3 status, $4 error, $5 details). */
const END_STEP = `UPDATE ops.run_steps SET status = $3, finished_at = now(), error = $4, details = details || $5::jsonb
     WHERE id = (SELECT max(id) FROM ops.run_steps WHERE run_id = $1 AND step = $2 AND status = 'running')`;

function stepParameters(
  runId: string,
  step: StepName,
  status: Exclude<RunStatus, 'running'>,
  outcome: { error?: string; details?: Record<string, unknown> },
): unknown[] {
  return [runId, step, status, outcome.error ?? null, JSON.stringify(outcome.details ?? {})];
}

/**
 * Closes the steps that an earlier delivery of the same message left 'running' because its
 * function died mid-way (killed, out of memory, timed out: nothing ran its `finally`). Called
 * only for a redelivered message, whose earlier attempt is over by then (SQS hands a message
 * out again once its visibility timeout, six times the function's timeout, has passed). The
 * steps are found by the object they worked on (ingest) or by their runs (transform); runs
 * other than the ones that go on (`retryRunIds`) are failed too.
 */
export async function closeInterruptedSteps(
  db: pg.Pool | pg.PoolClient,
  step: StepName,
  of: { subject: string; source: { bucket: string; key: string } } | { runIds: string[] },
  retryRunIds: string[],
): Promise<string[]> {
  const error = `interrupted: the ${step} function stopped before it finished (killed, out of memory or timed out); retried by run ${retryRunIds.join(', ')}`;
  const { rows } =
    'source' in of
      ? await db.query<{ run_id: string }>(
          `UPDATE ops.run_steps SET status = 'failed', finished_at = now(), error = $5
           WHERE step = $1 AND subject = $2 AND status = 'running'
             AND details->'source'->>'bucket' = $3 AND details->'source'->>'key' = $4
           RETURNING run_id`,
          [step, of.subject, of.source.bucket, of.source.key, error],
        )
      : await db.query<{ run_id: string }>(
          `UPDATE ops.run_steps SET status = 'failed', finished_at = now(), error = $3
           WHERE step = $1 AND status = 'running' AND run_id = ANY($2::uuid[])
           RETURNING run_id`,
          [step, of.runIds, error],
        );
  const runs = [...new Set(rows.map((row) => row.run_id))].filter((id) => !retryRunIds.includes(id));
  if (runs.length > 0)
    await db.query(
      `UPDATE ops.runs SET status = 'failed', finished_at = now(), error = $2
       WHERE id = ANY($1::uuid[]) AND status = 'running'`,
      [runs, error],
    );
  return [...new Set(rows.map((row) => row.run_id))];
}

export interface FileRecord {
  runId: string;
  dataset: string;
  sourceBucket: string;
  sourceKey: string;
  sha256: string;
  sizeBytes: number;
  rawKey?: string;
  status: FileStatus;
  rowsLoaded?: number;
  reportKey?: string;
  error?: string;
}

export async function recordFile(db: pg.Pool | pg.PoolClient, file: FileRecord): Promise<void> {
  await db.query(
    `INSERT INTO ops.files (run_id, dataset, source_bucket, source_key, sha256, size_bytes, raw_key, status,
                            rows_loaded, report_key, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      file.runId,
      file.dataset,
      file.sourceBucket,
      file.sourceKey,
      file.sha256,
      file.sizeBytes,
      file.rawKey ?? null,
      file.status,
      file.rowsLoaded ?? 0,
      file.reportKey ?? null,
      file.error ?? null,
    ],
  );
}

/**
 * The earlier load that makes loading this content again pointless: for an append dataset,
 * any load of the same bytes; for replace and upsert, only when these bytes are what the
 * table holds now (the last load), so a producer can roll back to an earlier file.
 */
export async function findLoadedFile(
  db: pg.Pool | pg.PoolClient,
  dataset: string,
  sha256: string,
  mode: 'replace' | 'append' | 'upsert',
): Promise<{ run_id: string; rows_loaded: string } | undefined> {
  const sql =
    mode === 'append'
      ? `SELECT run_id, rows_loaded FROM ops.files WHERE dataset = $1 AND sha256 = $2 AND status = 'loaded' LIMIT 1`
      : `SELECT run_id, rows_loaded FROM (
           SELECT run_id, rows_loaded, sha256 FROM ops.files WHERE dataset = $1 AND status = 'loaded' ORDER BY id DESC LIMIT 1
         ) last WHERE sha256 = $2`;
  const { rows } = await db.query<{ run_id: string; rows_loaded: string }>(sql, [dataset, sha256]);
  return rows[0];
}

/** The last outcome recorded for an object key (a redelivered message for a moved file). */
export async function findFileBySource(
  db: pg.Pool | pg.PoolClient,
  bucket: string,
  key: string,
): Promise<{ status: FileStatus; run_id: string } | undefined> {
  const { rows } = await db.query<{ status: FileStatus; run_id: string }>(
    `SELECT status, run_id FROM ops.files WHERE source_bucket = $1 AND source_key = $2 ORDER BY id DESC LIMIT 1`,
    [bucket, key],
  );
  return rows[0];
}
