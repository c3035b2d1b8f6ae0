/**
 * The transform and orchestration part of `npm run bench`:
 *   - a full transform pass of the example project after a 1M-row IRVE load (its own
 *     database, datacycle_bench, so the shared one keeps its data);
 *   - drop-to-published latency of a small file through the deployed stack on LocalStack:
 *     drop → S3 event → ingest → dataset.loaded → transform queue → models published.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  createPool,
  EXCHANGE_PREFIX,
  lambdaRunners,
  loadProject,
  migrate,
  runTransform,
} from '@datacycle/core';
import { localClientConfig, localS3 } from '../localcloud/aws-clients';
import { ensureDepartements } from '../localcloud/pipeline-files';
import { up } from '../localcloud/up';
import { exampleProjectDir, packageRoot } from '../localcloud/settings';

import type { ExportBench } from './exports';

export interface PipelineBench {
  exports: ExportBench;
  transform: { rows: number; seconds: number; status: string; models: string[]; tests: number };
  dropToPublished: {
    runs: number;
    medianSeconds: number;
    minSeconds: number;
    maxSeconds: number;
    coalesceSeconds: number;
  };
}

const example = path.join(packageRoot, 'examples/territoires');

/** Loads a CSV into raw.<table> of the bench database with the bundled loader, like ingestion does. */
function loadRaw(measureBundle: string, url: string, file: string, schemaFile: string, table: string): void {
  const result = spawnSync(process.execPath, [measureBundle, file, schemaFile, table, 'load'], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url, BENCH_SCHEMA: 'raw' },
  });
  if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
}

export async function benchTransform(baseUrl: string, measureBundle: string, irveFile: string, rows: number) {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS datacycle_bench');
  await admin.query('CREATE DATABASE datacycle_bench');
  await admin.end();
  const url = baseUrl.replace(/\/[^/?]+(\?|$)/, '/datacycle_bench$1');
  const pool = createPool(url);
  try {
    await migrate(pool);
    loadRaw(
      measureBundle,
      url,
      path.join(example, 'data/departements.csv'),
      path.join(example, 'schemas/departements.json'),
      'departements',
    );
    loadRaw(measureBundle, url, irveFile, path.join(example, 'schemas/irve-statique.json'), 'irve_statique');
    const loaded = await loadProject(example);
    if (!loaded.ok) throw new Error('the example project is invalid');
    // The example's Python and R models run in the deployed stack's runners, as in production.
    const { outputs } = await up(exampleProjectDir);
    const exchange = {
      s3: localS3(),
      bucket: outputs.InternalBucket,
      prefix: EXCHANGE_PREFIX,
      runners: lambdaRunners(
        { python: outputs.PythonModelsFunctionName, r: outputs.RModelsFunctionName },
        new LambdaClient(localClientConfig()),
      ),
    };
    const started = process.hrtime.bigint();
    const outcome = await runTransform(
      { pool, project: loaded.project, exchange },
      { datasets: [], runIds: [], all: true },
    );
    if (outcome.status !== 'swapped-in')
      throw new Error(`the transform pass of the bench ended ${outcome.status}: ${JSON.stringify(outcome)}`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      rows,
      seconds: Math.round(seconds * 100) / 100,
      status: outcome.status,
      models: outcome.models,
      tests: outcome.tests.length,
    };
  } finally {
    await pool.end();
  }
}

export async function benchDropToPublished(runs = 5): Promise<PipelineBench['dropToPublished']> {
  const { outputs, databaseUrl } = await up(exampleProjectDir);
  const loaded = await loadProject(example);
  if (!loaded.ok) throw new Error('the example project is invalid');
  const s3 = localS3();
  const pool = createPool(databaseUrl);
  // The transform's spatial join needs the example's départements (a fresh database has none).
  await ensureDepartements(pool);
  const file = readFileSync(path.join(example, 'data/irve-statique-exemple.csv'), 'utf8');
  // A different content each time: the same bytes would (rightly) load only once.
  const body = (marker: string) => file.replace(/Picpus/g, `Picpus ${marker}`);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const key = `irve-statique/bench-${Date.now()}-${i}.csv`;
      const dropped = Date.now();
      await s3.send(
        new PutObjectCommand({ Bucket: outputs.LandingBucket, Key: key, Body: body(`bench ${dropped}`) }),
      );
      for (;;) {
        const { rows } = await pool.query<{ status: string; finished_at: Date }>(
          `SELECT s.status, s.finished_at FROM ops.files f JOIN ops.run_steps s ON s.run_id = f.run_id
           WHERE f.source_key = $1 AND s.step = 'transform' AND s.status <> 'running'`,
          [key],
        );
        if (rows[0]) {
          if (rows[0].status !== 'succeeded') throw new Error(`the transform of ${key} ${rows[0].status}`);
          latencies.push((rows[0].finished_at.getTime() - dropped) / 1000);
          break;
        }
        if (Date.now() - dropped > 120_000) throw new Error(`${key} was not published within 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await pool.end();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    runs,
    medianSeconds: round(sorted[Math.floor(sorted.length / 2)]!),
    minSeconds: round(sorted[0]!),
    maxSeconds: round(sorted[sorted.length - 1]!),
    coalesceSeconds: loaded.project.config.transform.coalesceSeconds,
  };
}
