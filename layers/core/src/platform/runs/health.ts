import type pg from 'pg';
import { freshnessLimitHours } from '../project/freshness';
import type { Dataset, Project } from '../project';

export interface DatasetHealth {
  dataset: string;
  accrualPeriodicity: string;
  lastLoad?: Date;
  ageHours?: number;
  /** How old the last load may be (from a freshness test, else the update frequency). */
  limitHours?: number;
  stale: boolean;
  /** The last test results on the dataset's raw table and the models that read it. */
  tests: { passed: number; failed: number; lastCheck?: Date };
  lastRun?: { id: string; status: string; startedAt: Date };
}

/** How each dataset is doing: last load against its update frequency, tests, last run. */
export async function datasetHealth(
  pool: pg.Pool,
  project: Project,
  now = new Date(),
): Promise<DatasetHealth[]> {
  const { rows: loads } = await pool.query<{ dataset: string; last: Date }>(
    `SELECT dataset, max(received_at) AS last FROM ops.files WHERE status = 'loaded' GROUP BY dataset`,
  );
  const { rows: runs } = await pool.query<{ dataset: string; id: string; status: string; started_at: Date }>(
    `SELECT DISTINCT ON (dataset) dataset, id, status, started_at FROM ops.runs
     WHERE dataset IS NOT NULL ORDER BY dataset, started_at DESC`,
  );
  // The latest result of each test of each subject.
  const { rows: tests } = await pool.query<{ subject: string; status: string; checked_at: Date }>(
    `SELECT DISTINCT ON (subject, test) subject, status, checked_at FROM ops.test_results
     ORDER BY subject, test, checked_at DESC`,
  );
  const lastLoad = new Map(loads.map((row) => [row.dataset, row.last]));
  const lastRun = new Map(runs.map((row) => [row.dataset, row]));
  return project.datasets.map((dataset) => {
    const last = lastLoad.get(dataset.id);
    const limitHours = freshnessLimitHours(dataset, declaredMaxAge(dataset));
    const ageHours = last ? (now.getTime() - last.getTime()) / 3_600_000 : undefined;
    const subjects = new Set([
      dataset.id,
      ...project.models.filter((model) => model.sources.includes(dataset.id)).map((model) => model.name),
    ]);
    const own = tests.filter((test) => subjects.has(test.subject));
    const run = lastRun.get(dataset.id);
    return {
      dataset: dataset.id,
      accrualPeriodicity: dataset.config.accrualPeriodicity,
      lastLoad: last,
      ageHours,
      limitHours,
      stale: limitHours !== undefined && ageHours !== undefined && ageHours > limitHours,
      tests: {
        passed: own.filter((test) => test.status === 'pass').length,
        failed: own.filter((test) => test.status !== 'pass').length,
        lastCheck: own.reduce<Date | undefined>(
          (latest, test) => (!latest || test.checked_at > latest ? test.checked_at : latest),
          undefined,
        ),
      },
      lastRun: run ? { id: run.id, status: run.status, startedAt: run.started_at } : undefined,
    };
  });
}

function declaredMaxAge(dataset: Dataset): number | undefined {
  for (const test of dataset.config.tests) if ('freshness' in test) return test.freshness.maxAgeHours;
  return undefined;
}
