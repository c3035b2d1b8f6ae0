/**
 * Fault: PostgreSQL restarts (`pg_ctlcluster restart -m fast`: every connection cut, as in a
 * failover or a maintenance restart) in the middle of a 200k-row load, then in the middle of
 * the transform pass that follows it. Each rolls back: the previous rows and the previous
 * models stay as they were; SQS hands the message out again and the retry loads the file once
 * and rebuilds the models once, and no step is left "running".
 *
 * Needs the local Debian cluster that DATABASE_URL points at (as in CI); the queues' visibility
 * timeouts are shortened to 30 s while it runs. Figures: .local/faults/postgres-restart.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIrveCsv } from '../../bench/irve-generator';
import {
  databaseUrl,
  eventually,
  readStackOutputs,
  recordedFile,
  testPool,
  uniqueName,
} from '../helpers/local-cloud';
import { recordFigures } from './figures';
import {
  currentIrveRawKey,
  dropAndWaitForCopy,
  passesOver,
  restoreIrveRows,
  shortenVisibility,
  tableState,
} from './pipeline';

const ROWS = 200_000;
const VISIBILITY_SECONDS = 30;
const outputs = readStackOutputs();
const pool = testPool();
const workDir = mkdtempSync(path.join(tmpdir(), 'dc-fault-pg-'));
const file = path.join(workDir, 'irve-200k.csv');
const figures: Record<string, unknown> = { rows: ROWS, visibilityTimeoutSeconds: VISIBILITY_SECONDS };
const restores: (() => Promise<void>)[] = [];

/** The Debian cluster (version, name) serving DATABASE_URL's port on this machine, if any. */
function localCluster(): [string, string] | undefined {
  const url = new URL(databaseUrl());
  if (!['127.0.0.1', 'localhost', ''].includes(url.hostname)) return undefined;
  try {
    const port = url.port || '5432';
    const line = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' })
      .split('\n')
      .map((row) => row.trim().split(/\s+/))
      .find((columns) => columns[2] === port && columns[3] === 'online');
    return line ? [line[0]!, line[1]!] : undefined;
  } catch {
    return undefined;
  }
}
const cluster = localCluster();

/** Restarts PostgreSQL, cutting every connection; returns how long it was away. */
async function restartPostgres(): Promise<number> {
  const started = Date.now();
  execFileSync(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', cluster![0], cluster![1], 'restart', '-m', 'fast'],
    {
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
  const away = Number(((Date.now() - started) / 1000).toFixed(1));
  // The test's own idle connections were cut too: each fails its next query once, then the
  // pool drops it (as a function's pool does: a transient error, retried).
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      return away;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

const stepsOf = async (where: string, value: string) =>
  (
    await pool.query<{ step: string; status: string }>(
      `SELECT step, status FROM ops.run_steps WHERE ${where} ORDER BY id`,
      [value],
    )
  ).rows;

let previousRawKey: string;
beforeAll(async () => {
  // A content of its own on each run: the same bytes as the table holds would be a duplicate.
  await generateIrveCsv(file, ROWS, 0, Date.now() % 100_000);
  restores.push(
    await shortenVisibility([outputs.IngestQueueUrl, outputs.TransformQueueUrl], VISIBILITY_SECONDS),
  );
  previousRawKey = await currentIrveRawKey(pool);
}, 120_000);

afterAll(async () => {
  for (const restore of restores) await restore();
  rmSync(workDir, { recursive: true, force: true });
  recordFigures('postgres-restart', figures);
  await pool.end();
});

describe.skipIf(!cluster)('PostgreSQL restarted under the pipeline', () => {
  let loadRunId: string;

  it('in the middle of a load: the previous rows stay, the retry loads the file once', async () => {
    const before = await tableState(pool, 'raw.irve_statique');
    const key = `irve-statique/${uniqueName('fault-pg')}.csv`;
    // Stopped once PostgreSQL has taken a good share of the rows.
    const copied = await dropAndWaitForCopy(pool, key, file, ROWS);
    const restartSeconds = await restartPostgres();
    const restartedAt = Date.now();

    expect(await tableState(pool, 'raw.irve_statique')).toEqual(before);
    expect(
      await stepsOf("step = 'ingest' AND status = 'succeeded' AND details->'source'->>'key' = $1", key),
    ).toEqual([]);

    const loaded = await recordedFile(pool, key, (VISIBILITY_SECONDS + 180) * 1000);
    const loadedAt = Date.now();
    loadRunId = loaded.run_id;
    expect(loaded.status).toBe('loaded');
    expect(Number(loaded.rows_loaded)).toBe(ROWS);
    const { rows: table } = await pool.query<{ rows: number; loads: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT _load_id)::int AS loads FROM raw.irve_statique',
    );
    expect(table).toEqual([{ rows: ROWS, loads: 1 }]);
    const { rows: files } = await pool.query('SELECT status FROM ops.files WHERE source_key = $1', [key]);
    expect(files).toEqual([{ status: 'loaded' }]);
    // No attempt is left "running": the cut one failed (transient) or was closed by the retry.
    const attempts = await stepsOf("step = 'ingest' AND details->'source'->>'key' = $1", key);
    expect(attempts.filter((step) => step.status === 'running')).toEqual([]);
    expect(attempts.filter((step) => step.status === 'succeeded')).toHaveLength(1);

    figures.load = {
      rowsCopiedWhenRestarted: copied,
      postgresAwaySeconds: restartSeconds,
      secondsFromRestartToLoaded: Number(((loadedAt - restartedAt) / 1000).toFixed(1)),
      attempts: attempts.length,
      rowsAfter: table[0]!.rows,
    };
  });

  it('in the middle of the transform pass: the models stay as they were, the retry rebuilds them once', async () => {
    expect(loadRunId).toBeDefined();
    const modelsBefore = await tableState(pool, 'enriched.irve_points');
    // The pass on the new rows: its spatial join is the long statement.
    await eventually(
      async () =>
        (
          await pool.query(
            "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'CREATE TABLE%irve_points__new%'",
          )
        ).rowCount
          ? true
          : undefined,
      120_000,
      'the transform pass building irve_points',
    );
    const restartSeconds = await restartPostgres();
    const restartedAt = Date.now();

    // Rolled back whole: the published models are the previous ones.
    expect(await tableState(pool, 'enriched.irve_points')).toEqual(modelsBefore);

    await passesOver(pool, loadRunId, (VISIBILITY_SECONDS + 300) * 1000);
    const rebuiltAt = Date.now();
    const steps = await stepsOf('run_id = $1::uuid', loadRunId);
    const transform = steps.filter((step) => step.step === 'transform');
    expect(transform.at(-1)?.status).toBe('succeeded');
    expect(transform.filter((step) => step.status === 'succeeded')).toHaveLength(1);
    expect(transform.filter((step) => step.status === 'running')).toEqual([]);
    expect(steps.filter((step) => step.step === 'publish').map((step) => step.status)).toEqual(['succeeded']);
    // Nothing lost, nothing doubled: every loaded point once in the model, every one counted.
    const { rows: counts } = await pool.query<{ raw: number; points: number; counted: number }>(
      `SELECT (SELECT count(*)::int FROM raw.irve_statique) AS raw,
              (SELECT count(*)::int FROM enriched.irve_points) AS points,
              (SELECT sum(points_de_recharge)::int FROM enriched.irve_par_departement) AS counted`,
    );
    expect(counts).toEqual([{ raw: ROWS, points: ROWS, counted: ROWS }]);

    figures.transform = {
      postgresAwaySeconds: restartSeconds,
      secondsFromRestartToPublished: Number(((rebuiltAt - restartedAt) / 1000).toFixed(1)),
      transformAttempts: transform.length,
      pointsAfter: counts[0]!.points,
    };

    // Leave the example as it was: its previous file replaces the 200k rows.
    await restoreIrveRows(pool, previousRawKey);
  });
});
