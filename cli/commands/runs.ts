import { createPool, type RunRow as RunRecord } from '@datacycle/core';
import { databaseUrl } from '../database';

/** A run and its steps, one line (`collect:succeeded → ingest:failed`). */
interface RunRow extends RunRecord {
  steps: string | null;
}

const time = (date: Date | null) => (date ? date.toISOString().replace('T', ' ').slice(0, 19) : '—');

/** `datacycle runs [--limit N]`: the latest runs, a line each, with their steps. */
export async function runsCommand(args: string[]): Promise<number> {
  const limit = Number(args[args.indexOf('--limit') + 1] ?? 20) || 20;
  const pool = createPool(databaseUrl());
  try {
    const { rows } = await pool.query<RunRow>(
      `SELECT r.id, r.trigger, r.dataset, r.status, r.started_at, r.finished_at, r.error,
              string_agg(s.step || ':' || s.status, ' → ' ORDER BY s.id) AS steps
       FROM ops.runs r LEFT JOIN ops.run_steps s ON s.run_id = r.id
       GROUP BY r.id ORDER BY r.started_at DESC LIMIT $1`,
      [limit],
    );
    for (const run of rows) {
      console.log(
        `${time(run.started_at)}  ${run.id}  ${run.status.padEnd(9)} ${run.trigger.padEnd(8)} ${(run.dataset ?? '').padEnd(20)} ${run.steps ?? ''}`,
      );
      if (run.error) console.log(`    ${run.error.split('\n')[0]}`);
    }
    return 0;
  } finally {
    await pool.end();
  }
}

/** `datacycle run <id>`: one run, whole: its steps, files, test results and alerts. */
export async function runCommand(args: string[]): Promise<number> {
  const id = args[0];
  if (!id || !/^[0-9a-f-]{36}$/i.test(id)) {
    console.error('usage: datacycle run <run id>');
    return 2;
  }
  const pool = createPool(databaseUrl());
  try {
    const { rows: runs } = await pool.query<RunRow>('SELECT *, NULL AS steps FROM ops.runs WHERE id = $1', [
      id,
    ]);
    const run = runs[0];
    if (!run) {
      console.error(`no run ${id} in ops.runs`);
      return 1;
    }
    console.log(`run ${run.id}  ${run.status}  (${run.trigger}${run.dataset ? `, ${run.dataset}` : ''})`);
    console.log(`  ${time(run.started_at)} → ${time(run.finished_at)}`);
    if (run.error) console.log(`  error: ${run.error}`);
    const { rows: steps } = await pool.query(
      'SELECT step, subject, status, started_at, finished_at, error, details FROM ops.run_steps WHERE run_id = $1 ORDER BY id',
      [id],
    );
    console.log('steps:');
    for (const step of steps) {
      const seconds = step.finished_at ? ((step.finished_at - step.started_at) / 1000).toFixed(1) : '…';
      console.log(
        `  ${String(step.step).padEnd(9)} ${String(step.status).padEnd(9)} ${seconds} s  ${step.subject ?? ''}`,
      );
      if (step.error) console.log(`    ${step.error}`);
    }
    const { rows: files } = await pool.query(
      'SELECT source_key, status, rows_loaded, report_key FROM ops.files WHERE run_id = $1 ORDER BY id',
      [id],
    );
    if (files.length > 0) console.log('files:');
    for (const file of files)
      console.log(
        `  ${file.source_key}  ${file.status}  ${file.rows_loaded} rows  report ${file.report_key}`,
      );
    const transformIds = steps.flatMap((step) =>
      step.details?.transformId ? [step.details.transformId] : [],
    );
    const { rows: tests } = await pool.query(
      'SELECT subject, test, severity, status, message, sample FROM ops.test_results WHERE transform_id = ANY($1::uuid[]) ORDER BY id',
      [transformIds],
    );
    if (tests.length > 0) console.log('tests:');
    for (const test of tests) {
      const mark = test.status === 'pass' ? '✓' : test.severity === 'warn' ? '!' : '✗';
      console.log(`  ${mark} ${test.subject}: ${test.test} — ${test.message}`);
      for (const row of test.status === 'pass' ? [] : test.sample)
        console.log(`      ${JSON.stringify(row)}`);
    }
    const { rows: alerts } = await pool.query(
      'SELECT kind, severity, title, delivered_at FROM ops.alerts WHERE run_id = $1 ORDER BY id',
      [id],
    );
    if (alerts.length > 0) console.log('alerts:');
    for (const alert of alerts)
      console.log(
        `  ${alert.severity} ${alert.kind}: ${alert.title}${alert.delivered_at ? '' : ' (not delivered yet)'}`,
      );
    return 0;
  } finally {
    await pool.end();
  }
}
