/**
 * Runs and their steps on real PostgreSQL: a run's status follows its steps as they start
 * and end (ops.runs, ops.run_steps), as `datacycle runs`, the portal and the API show it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { finishRun, finishStep, newRunId, startRun } from '@datacycle/core';
import { runSteps, testPool, uniqueName } from '../helpers/local-cloud';

const pool = testPool();
const dataset = uniqueName('runs');

afterAll(async () => {
  await pool.query('DELETE FROM ops.run_steps WHERE run_id IN (SELECT id FROM ops.runs WHERE dataset = $1)', [
    dataset,
  ]);
  await pool.query('DELETE FROM ops.runs WHERE dataset = $1', [dataset]);
  await pool.end();
});

async function runOf(id: string) {
  const { rows } = await pool.query<{ status: string; finished: boolean; error: string | null }>(
    'SELECT status, finished_at IS NOT NULL AS finished, error FROM ops.runs WHERE id = $1',
    [id],
  );
  return rows[0];
}

const start = (id: string, step: 'collect' | 'ingest' | 'transform') =>
  startRun(pool, { id, trigger: 'schedule', dataset, step });

describe('a run and its steps', () => {
  it('is running again while a step that joins it works, then as good as its steps', async () => {
    const id = newRunId();
    await start(id, 'collect');
    expect(await runOf(id)).toEqual({ status: 'running', finished: false, error: null });
    await finishRun(pool, id, 'collect', 'succeeded');
    expect(await runOf(id)).toEqual({ status: 'succeeded', finished: true, error: null });

    // The collected file's ingestion joins the run: it is not over until the load is.
    await start(id, 'ingest');
    expect(await runOf(id)).toEqual({ status: 'running', finished: false, error: null });
    await finishRun(pool, id, 'ingest', 'skipped');
    expect(await runOf(id)).toEqual({ status: 'succeeded', finished: true, error: null });
  });

  it('is as bad as its worst step, whatever order they end in', async () => {
    const id = newRunId();
    await start(id, 'collect');
    await finishRun(pool, id, 'collect', 'failed', { error: 'HTTP 503' });
    await start(id, 'ingest');
    await finishRun(pool, id, 'ingest', 'succeeded');
    expect(await runOf(id)).toEqual({ status: 'failed', finished: true, error: 'HTTP 503' });

    const later = newRunId();
    await start(later, 'ingest');
    await finishRun(pool, later, 'ingest', 'succeeded');
    await start(later, 'transform');
    await finishRun(pool, later, 'transform', 'failed', { error: 'a test failed' });
    expect(await runOf(later)).toEqual({ status: 'failed', finished: true, error: 'a test failed' });
  });

  it('counts a retried step by its latest attempt', async () => {
    const id = newRunId();
    await start(id, 'collect');
    await finishRun(pool, id, 'collect', 'succeeded');
    await start(id, 'ingest');
    // A transient failure: the step ends, the run waits for the retry.
    await finishStep(pool, id, 'ingest', 'failed', { error: 'connection reset' });
    expect(await runOf(id)).toMatchObject({ status: 'running', finished: false });
    await start(id, 'ingest');
    await finishRun(pool, id, 'ingest', 'succeeded');
    expect(await runOf(id)).toEqual({ status: 'succeeded', finished: true, error: null });
    expect(await runSteps(pool, id)).toEqual([
      { step: 'collect', status: 'succeeded' },
      { step: 'ingest', status: 'failed' },
      { step: 'ingest', status: 'succeeded' },
    ]);
  });
});
