/**
 * Fault: the ingest function dies in the middle of a 1M-row load (SIGKILL of its runtime, as an
 * out-of-memory kill or a host failure would). The load is one PostgreSQL transaction and the
 * file is recorded inside it, so: the previous rows stay as they were, nothing is recorded, the
 * original stays in landing/, and when SQS hands the message out again (its visibility timeout
 * over) the retry loads the file exactly once.
 *
 * The ingest queue's visibility timeout is six times the function's timeout (90 min here): the
 * scenario shortens it to 60 s while it runs, so that the retry comes in a minute, and puts it back.
 * Figures: .local/faults/ingest-killed.json.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIrveCsv } from '../../bench/irve-generator';
import { eventually, readStackOutputs, recordedFile, testPool, uniqueName } from '../helpers/local-cloud';
import { recordFigures } from './figures';
import {
  currentIrveRawKey,
  dropAndWaitForCopy,
  functionWorkers,
  restoreIrveRows,
  rowsCopiedSoFar,
  shortenVisibility,
  tableState,
} from './pipeline';

const ROWS = 1_000_000;
const RETRY_VISIBILITY_SECONDS = 60;
const outputs = readStackOutputs();
const pool = testPool();
const workDir = mkdtempSync(path.join(tmpdir(), 'dc-fault-kill-'));
const bigFile = path.join(workDir, 'irve-1m.csv');
let restoreVisibility: () => Promise<void>;

beforeAll(async () => {
  await generateIrveCsv(bigFile, ROWS, 0, Date.now() % 100_000);
  restoreVisibility = await shortenVisibility([outputs.IngestQueueUrl], RETRY_VISIBILITY_SECONDS);
}, 120_000);

afterAll(async () => {
  await restoreVisibility();
  rmSync(workDir, { recursive: true, force: true });
  await pool.end();
});

describe('the ingest function killed in the middle of a 1M-row load', () => {
  it('leaves the previous rows intact, then the retry loads the file exactly once', async () => {
    const before = await tableState(pool, 'raw.irve_statique');
    const previousRawKey = await currentIrveRawKey(pool);

    const key = `irve-statique/${uniqueName('fault-1m')}.csv`;
    const dropped = Date.now();
    // Stopped once PostgreSQL has taken a good share of the rows.
    const copied = await dropAndWaitForCopy(pool, key, bigFile, ROWS);
    const workers = functionWorkers(outputs.IngestFunctionName);
    expect(workers.length).toBeGreaterThan(0);
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();

    // The transaction died with its connection: no COPY left, the rows as before, nothing recorded.
    await eventually(
      async () => ((await rowsCopiedSoFar(pool)) === undefined ? true : undefined),
      30_000,
      'the COPY gone',
    );
    expect(await tableState(pool, 'raw.irve_statique')).toEqual(before);
    const { rows: recorded } = await pool.query('SELECT 1 FROM ops.files WHERE source_key = $1', [key]);
    expect(recorded).toEqual([]);

    // The retry: the message comes back after its visibility timeout and loads the file once.
    const file = await recordedFile(pool, key, (RETRY_VISIBILITY_SECONDS + 240) * 1000);
    const loadedAt = Date.now();
    expect(file.status).toBe('loaded');
    expect(Number(file.rows_loaded)).toBe(ROWS);
    const { rows: loads } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ops.files f
       WHERE f.dataset = 'irve-statique' AND f.status = 'loaded'
         AND f.sha256 = (SELECT sha256 FROM ops.files WHERE source_key = $1)`,
      [key],
    );
    expect(loads).toEqual([{ n: 1 }]);
    const { rows: table } = await pool.query<{ rows: number; loads: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT _load_id)::int AS loads FROM raw.irve_statique',
    );
    expect(table).toEqual([{ rows: ROWS, loads: 1 }]);

    // The killed run is not left "running": the retry closed it as interrupted.
    const { rows: interrupted } = await pool.query<{ status: string; error: string }>(
      `SELECT r.status, r.error FROM ops.runs r
       WHERE r.dataset = 'irve-statique' AND r.details->'source'->>'key' = $1 AND r.id <> $2`,
      [key, file.run_id],
    );
    expect(interrupted).toEqual([{ status: 'failed', error: expect.stringMatching(/interrupted/) }]);

    recordFigures('ingest-killed', {
      rows: ROWS,
      fileMegabytes: Math.round(statSync(bigFile).size / 1e6),
      rowsCopiedWhenKilled: copied,
      secondsFromDropToKill: Number(((killedAt - dropped) / 1000).toFixed(1)),
      secondsFromKillToRetryLoaded: Number(((loadedAt - killedAt) / 1000).toFixed(1)),
      visibilityTimeoutSeconds: RETRY_VISIBILITY_SECONDS,
      rowsBefore: before.rows,
      previousRowsIntactAfterKill: true,
      rowsAfterRetry: table[0]!.rows,
      loadsOfTheFile: loads[0]!.n,
    });

    // Leave the example as it was: its previous file replaces the 1M rows, soon enough to
    // join the transform pass of the 1M-row load (one pass rebuilds the models from it).
    await restoreIrveRows(pool, previousRawKey);
    expect((await tableState(pool, 'raw.irve_statique')).rows).toBe(before.rows);
  });
});
