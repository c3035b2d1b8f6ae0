import { createPool, DATABASE_ROLES, loadProject, migrate, runTransform } from '@datacycle/core';
import { parseArgs } from '../args';
import { projectDirOf } from '../project';
import { databaseUrl } from '../database';

/**
 * `datacycle transform <project-dir> [--dataset <id>]…`: builds and tests the models on the
 * database now (DATABASE_URL), as the deployed transform function does after a load; without
 * --dataset, every model and every dataset test. Exit 0 when the models were swapped in, 1 otherwise.
 */
export async function transformCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const dir = positional[0] ?? projectDirOf(flags);
  const loaded = await loadProject(dir);
  if (!loaded.ok) {
    console.error(`the project has problems: run datacycle check ${dir}`);
    return 1;
  }
  const datasets = args.flatMap((arg, i) => (arg === '--dataset' && args[i + 1] ? [args[i + 1]!] : []));
  void flags;
  const owner = createPool(databaseUrl());
  // Built as the deployed transform builds them: the loader owns what it swaps in.
  const pool = createPool(databaseUrl(), 2, { role: DATABASE_ROLES.loader });
  try {
    await migrate(owner);
    const outcome = await runTransform(
      { pool, project: loaded.project },
      { datasets, runIds: [], all: datasets.length === 0 },
    );
    console.log(`transform ${outcome.transformId}: ${outcome.status}`);
    for (const model of outcome.models) console.log(`  model ${model}`);
    for (const test of outcome.tests) {
      const mark = test.status === 'pass' ? '✓' : test.severity === 'warn' ? '!' : '✗';
      console.log(`  ${mark} ${test.subject}: ${test.test} — ${test.message}`);
    }
    if (outcome.error) console.error(`✗ ${outcome.error}`);
    return outcome.status === 'swapped-in' || outcome.status === 'nothing-to-do' ? 0 : 1;
  } finally {
    await Promise.all([pool.end(), owner.end()]);
  }
}
