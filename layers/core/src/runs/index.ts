import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export type FileStatus = 'loaded' | 'rejected' | 'duplicate';

export function newRunId(): string {
  return randomUUID();
}

export async function startRun(
  db: pg.Pool | pg.PoolClient,
  run: { id: string; trigger: string; dataset?: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `INSERT INTO ops.runs (id, trigger, dataset, status, details) VALUES ($1, $2, $3, 'running', $4)
     ON CONFLICT (id) DO NOTHING`,
    [run.id, run.trigger, run.dataset ?? null, JSON.stringify(run.details ?? {})],
  );
}

export async function finishRun(
  db: pg.Pool | pg.PoolClient,
  runId: string,
  status: Exclude<RunStatus, 'running'>,
  outcome: { error?: string; details?: Record<string, unknown> } = {},
): Promise<void> {
  await db.query(
    `UPDATE ops.runs SET status = $2, finished_at = now(), error = $3, details = details || $4::jsonb WHERE id = $1`,
    [runId, status, outcome.error ?? null, JSON.stringify(outcome.details ?? {})],
  );
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

/** The load of this exact content, if the dataset already has it. */
export async function findLoadedFile(
  db: pg.Pool | pg.PoolClient,
  dataset: string,
  sha256: string,
): Promise<{ run_id: string; rows_loaded: string } | undefined> {
  const { rows } = await db.query<{ run_id: string; rows_loaded: string }>(
    `SELECT run_id, rows_loaded FROM ops.files WHERE dataset = $1 AND sha256 = $2 AND status = 'loaded'`,
    [dataset, sha256],
  );
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
