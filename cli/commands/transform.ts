import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import {
  createPool,
  DATABASE_ROLES,
  EXCHANGE_PREFIX,
  lambdaRunners,
  loadProject,
  migrate,
  runTransform,
  type ModelExchange,
  type Project,
} from '@datacycle/core';
import { parseArgs } from '../args';
import { projectDirOf } from '../project';
import { databaseUrl } from '../database';
import { deployedStack } from '../stack';

/**
 * `datacycle transform <project-dir> [--dataset <id>]…`: builds and tests the models on the
 * database now (DATABASE_URL), as the deployed transform function does after a load; without
 * --dataset, every model and every dataset test. Python and R models run in the deployed
 * stack's runners (the local cloud's, or `--aws --stack <name>`). Exit 0 when the models were
 * swapped in, 1 otherwise.
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
  const owner = createPool(databaseUrl());
  // Built as the deployed transform builds them: the loader owns what it swaps in.
  const pool = createPool(databaseUrl(), 2, { role: DATABASE_ROLES.loader });
  try {
    await migrate(owner);
    const outcome = await runTransform(
      { pool, project: loaded.project, exchange: await runnersOf(loaded.project, flags) },
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

/** The deployed stack's model runners, when the project has Python or R models. */
async function runnersOf(
  project: Project,
  flags: Map<string, string | true>,
): Promise<ModelExchange | undefined> {
  if (project.models.every((model) => model.language === 'sql')) return undefined;
  const { outputs, clientConfig } = await deployedStack(flags);
  return {
    s3: new S3Client(clientConfig),
    bucket: outputs.InternalBucket,
    prefix: EXCHANGE_PREFIX,
    runners: lambdaRunners(
      { python: outputs.PythonModelsFunctionName, r: outputs.RModelsFunctionName },
      new LambdaClient(clientConfig),
    ),
  };
}
