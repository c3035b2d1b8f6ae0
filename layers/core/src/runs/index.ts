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
