import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { raiseAlert } from '../../platform/events';
import { errorMessage, isTransient } from '../../platform/errors/errors';
import { pipelineEvents, publishEvent, type EventBus } from '../../platform/events/bus';
import type { Project } from '../../platform/project';
import { closeInterruptedSteps, finishRun, finishStep, newRunId, startRun } from '../../platform/runs/runs';
import { connect, datasetTableName, qualified, quoteIdent } from '../../platform/warehouse';
import { runDataTest, type TestResult, type TestSubject } from './data-tests';
import { downstreamModels } from '../../platform/project/model-graph';
import { renderModelSql, type Model } from '../../platform/project/model';
import { buildExternalModel, type ModelExchange } from './external-model';
import { snapshotIndicators, type CrossedThreshold } from './indicators';
import { emitTransformLineage, transformLineage } from './lineage';
import type { LineageSink } from '../../platform/lineage';

export interface TransformContext {
  pool: pg.Pool;
  project: Project;
  eventBus?: EventBus;
  /** Where Python and R models run (absent: a project with SQL models only). */
  exchange?: ModelExchange;
  /** Where the pass's OpenLineage events go (absent: none emitted). */
  lineage?: LineageSink;
}

export interface TransformRequest {
  /** Datasets whose new data the models must take in. */
  datasets: string[];
  /** The runs (one per load) this pass serves; none: a pass of its own (`datacycle transform`). */
  runIds: string[];
  /** Rebuild every model and test every dataset, whatever changed. */
  all?: boolean;
  /** Some of the loads were handed out before: an earlier attempt of this pass died. */
  redelivered?: boolean;
}

export interface TransformOutcome {
  transformId: string;
  /**
   * swapped-in: the rebuilt models replaced the old ones (publication follows, as its own stage);
   * blocked: an error-level test failed; failed: a model did not build.
   */
  status: 'swapped-in' | 'blocked' | 'failed' | 'nothing-to-do';
  /** The datasets taken in (their new data), and the models rebuilt. */
  datasets: string[];
  models: string[];
  tests: TestResult[];
  /** Thresholds of the project's indicators that this pass's values crossed. */
  crossed?: CrossedThreshold[];
  error?: string;
}

const ENRICHED = 'enriched';
const BUILDING = '__new';

/**
 * One transform pass: builds the models downstream of the changed datasets, tests those
 * datasets and the models as built, and swaps the models in only if no error-level test
 * failed. Everything happens in one transaction: readers see the previous models until the
 * commit, and a model that fails to build or a failed test leaves them all in place. Passes
 * are serialised by an advisory lock, so a model is never built twice at once.
 */
export async function runTransform(
  context: TransformContext,
  request: TransformRequest,
): Promise<TransformOutcome> {
  const { pool, project } = context;
  const started = new Date();
  const known = new Set(project.datasets.map((dataset) => dataset.id));
  const datasets = request.all ? [...known] : request.datasets.filter((id) => known.has(id));
  const models = request.all ? project.models : downstreamModels(project.models, datasets);
  const transformId = randomUUID();
  const runIds = request.runIds.length > 0 ? request.runIds : [newRunId()];
  const details = { transformId, datasets, models: models.map((model) => model.name) };
  // Before this pass's own steps exist: only an earlier attempt's can be left running.
  if (request.redelivered) await closeInterruptedSteps(pool, 'transform', { runIds }, runIds);
  for (const id of runIds) {
    await startRun(pool, { id, trigger: 'manual', step: 'transform', details });
  }
  const testedDatasets = project.datasets.filter(
    (dataset) => datasets.includes(dataset.id) && dataset.config.tests.length > 0,
  );
  if (models.length === 0 && testedDatasets.length === 0) {
    // Nothing to build or test: the datasets go straight on to publication.
    return conclude(context, runIds, started, {
      transformId,
      status: 'nothing-to-do',
      datasets,
      models: [],
      tests: [],
    });
  }

  const rebuilt = new Set(
    models.filter((model) => model.header.materialized !== 'incremental').map((model) => model.name),
  );
  const resolve = (kind: 'ref' | 'source', name: string) =>
    kind === 'source'
      ? qualified('raw', datasetTableName(name))
      : qualified(ENRICHED, rebuilt.has(name) ? `${name}${BUILDING}` : name);

  const failed = (error: string): TransformOutcome => ({
    transformId,
    status: 'failed',
    datasets,
    models: details.models,
    tests: [],
    error,
  });
  const client = await connect(pool);
  let outcome: TransformOutcome | undefined;
  let transient: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('datacycle:transform'))`);
    // The pass's time, once it holds the lock (not now(), its transaction's start): passes
    // take the lock in turn and keep it until they commit, so each is timed after the last
    // one committed, and a history paged by time never misses a pass published meanwhile.
    const { rows: clock } = await client.query<{ taken_at: Date }>('SELECT clock_timestamp() AS taken_at');
    const takenAt = clock[0]!.taken_at;
    // The new data's statistics, for the plans below: gathered here, once per pass however
    // many loads it takes in, rather than by each load (a table no model reads is left to
    // autovacuum). A replaced table has none until then; an appended one has stale ones.
    for (const id of datasets) {
      const table = resolve('source', id);
      const { rows } = await client.query<{ loaded: boolean }>(
        'SELECT to_regclass($1) IS NOT NULL AS loaded',
        [table],
      );
      if (rows[0]?.loaded) await client.query(`ANALYZE ${table}`);
    }
    for (const model of models) {
      const problem = await buildModel(client, model, resolve, context.exchange);
      if (problem) {
        await client.query('ROLLBACK');
        outcome = failed(problem);
        return await conclude(context, runIds, started, outcome);
      }
    }
    const tests: TestResult[] = [];
    for (const dataset of testedDatasets) {
      const subject: TestSubject = {
        kind: 'dataset',
        name: dataset.id,
        relation: resolve('source', dataset.id),
        dataset,
      };
      for (const test of dataset.config.tests) tests.push(await runDataTest(client, subject, test, resolve));
    }
    for (const model of models) {
      const subject: TestSubject = { kind: 'model', name: model.name, relation: resolve('ref', model.name) };
      for (const test of model.header.tests) tests.push(await runDataTest(client, subject, test, resolve));
    }
    const blocking = tests.filter((test) => test.severity === 'error' && test.status !== 'pass');
    if (blocking.length > 0) {
      await client.query('ROLLBACK');
      outcome = { transformId, status: 'blocked', datasets, models: details.models, tests };
    } else {
      // Dependents first: a view must go before the table it reads is replaced.
      for (const model of [...models].reverse())
        if (rebuilt.has(model.name)) await dropPublished(client, model.name);
      for (const model of models)
        if (rebuilt.has(model.name))
          await client.query(
            `ALTER ${model.header.materialized === 'view' ? 'VIEW' : 'TABLE'} ${qualified(ENRICHED, `${model.name}${BUILDING}`)} RENAME TO ${quoteIdent(model.name)}`,
          );
      // The indicators' history, in the same transaction: it holds exactly what was published.
      const crossed = await snapshotIndicators(client, models, project.config.indicators.thresholds, {
        transformId,
        runIds,
        takenAt,
      });
      await client.query('COMMIT');
      outcome = { transformId, status: 'swapped-in', datasets, models: details.models, tests, crossed };
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    // The database went away (restart, failover, network): not the models' fault. The pass
    // rolled back; the step says so and the message comes back for another try.
    if (isTransient(error)) transient = error as Error;
    else outcome = failed(errorMessage(error));
  } finally {
    client.release(transient);
  }
  if (!outcome) {
    const error = `${errorMessage(transient)}; the pass rolled back and will be retried`;
    for (const id of runIds)
      await finishStep(pool, id, 'transform', 'failed', { error }).catch(() => undefined);
    throw transient;
  }
  return conclude(context, runIds, started, outcome);
}

/** Builds one model inside the pass's transaction; returns what went wrong, located in the model file. */
async function buildModel(
  client: pg.PoolClient,
  model: Model,
  resolve: (kind: 'ref' | 'source', name: string) => string,
  exchange: ModelExchange | undefined,
): Promise<string | undefined> {
  const building = qualified(ENRICHED, `${model.name}${BUILDING}`);
  if (model.language !== 'sql') {
    if (!exchange)
      return `model ${model.name} (${model.file}): ${model.language === 'python' ? 'Python' : 'R'} models run in the deployed stack (datacycle up, or deploy)`;
    return buildExternalModel(client, model, building, resolve, exchange);
  }
  const body = renderModelSql(model.code, resolve);
  let prefix: string;
  switch (model.header.materialized) {
    case 'view':
      prefix = `CREATE VIEW ${building} AS\n`;
      break;
    case 'table':
      prefix = `CREATE TABLE ${building} AS\n`;
      break;
    case 'incremental':
      return buildIncremental(client, model, body);
  }
  await client.query('SAVEPOINT model');
  try {
    await client.query(`DROP VIEW IF EXISTS ${building}; DROP TABLE IF EXISTS ${building}`);
    await client.query(prefix + body);
    await client.query('RELEASE SAVEPOINT model');
    return undefined;
  } catch (error) {
    if (isTransient(error)) throw error;
    return locate(model, error, prefix.length, body);
  }
}

/** Incremental: the first pass creates the table; later ones merge their rows on unique_key. */
async function buildIncremental(
  client: pg.PoolClient,
  model: Model,
  body: string,
): Promise<string | undefined> {
  const target = qualified(ENRICHED, model.name);
  const key = [model.header.unique_key ?? []].flat().map(quoteIdent);
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
    `${ENRICHED}.${model.name}`,
  ]);
  const prefix = rows[0]?.exists
    ? 'CREATE TEMP TABLE _datacycle_delta ON COMMIT DROP AS\n'
    : `CREATE TABLE ${target} AS\n`;
  try {
    await client.query(prefix + body);
  } catch (error) {
    if (isTransient(error)) throw error;
    return locate(model, error, prefix.length, body);
  }
  if (!rows[0]?.exists) {
    await client.query(`CREATE UNIQUE INDEX ON ${target} (${key.join(', ')})`);
    return undefined;
  }
  const { rows: columns } = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = '_datacycle_delta'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  const names = columns.map((column) => quoteIdent(column.name));
  const updates = names.filter((name) => !key.includes(name)).map((name) => `${name} = EXCLUDED.${name}`);
  await client.query(
    `INSERT INTO ${target} (${names.join(', ')}) SELECT ${names.join(', ')} FROM _datacycle_delta
     ON CONFLICT (${key.join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
  );
  await client.query('DROP TABLE _datacycle_delta');
  return undefined;
}

/** PostgreSQL's message, with the model file and line its position points at. */
function locate(model: Model, error: unknown, prefixLength: number, body: string): string {
  const position = Number((error as { position?: string }).position);
  let line = model.codeLine;
  // Templates render on one line, so the rendered body keeps the file's line breaks.
  if (Number.isFinite(position) && position > prefixLength) {
    const before = body.slice(0, position - prefixLength - 1);
    line += before.split('\n').length - 1;
  }
  return `model ${model.name} (${model.file}, line ${line}): ${errorMessage(error)}`;
}

async function dropPublished(client: pg.PoolClient, name: string): Promise<void> {
  const { rows } = await client.query<{ kind: string }>(
    `SELECT c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [ENRICHED, name],
  );
  const kind = rows[0]?.kind;
  if (kind === 'v') await client.query(`DROP VIEW ${qualified(ENRICHED, name)}`);
  else if (kind === 'r') await client.query(`DROP TABLE ${qualified(ENRICHED, name)}`);
}

/** Records the pass: test results, each run's step, an alert when it swapped nothing in, the event when it did. */
async function conclude(
  context: TransformContext,
  runIds: string[],
  started: Date,
  outcome: TransformOutcome,
): Promise<TransformOutcome> {
  const { pool } = context;
  for (const result of outcome.tests) {
    await pool.query(
      `INSERT INTO ops.test_results (transform_id, subject_kind, subject, test, kind, severity, status, failures, message, sample)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        outcome.transformId,
        result.subjectKind,
        result.subject,
        result.test,
        result.kind,
        result.severity,
        result.status,
        result.failures,
        result.message,
        JSON.stringify(result.sample),
      ],
    );
  }
  const failing = outcome.tests.filter((test) => test.status !== 'pass');
  const summary = failing.map((test) => `${test.subject}: ${test.test} — ${test.message}`);
  const stepStatus =
    outcome.status === 'swapped-in' ? 'succeeded' : outcome.status === 'nothing-to-do' ? 'skipped' : 'failed';
  const error =
    outcome.status === 'failed'
      ? outcome.error
      : outcome.status === 'blocked'
        ? `publication blocked by failed tests: ${summary.filter((_, i) => failing[i]!.severity === 'error').join('; ')}`
        : undefined;
  const details = { transformId: outcome.transformId, status: outcome.status, failedTests: summary };
  for (const id of runIds) await finishRun(pool, id, 'transform', stepStatus, { error, details });

  const alertContext = { pool, eventBus: context.eventBus };
  if (outcome.status === 'failed') {
    await raiseAlert(alertContext, {
      kind: 'run-failed',
      severity: 'error',
      subject: outcome.models.join(', '),
      runId: runIds[0],
      title: 'a model failed to build: nothing was published',
      message: outcome.error ?? 'unknown error',
      hint: 'fix the model (the previous tables are still in place); `datacycle transform` runs the models again',
      details: { transformId: outcome.transformId },
    });
  } else if (failing.length > 0) {
    const blocked = outcome.status === 'blocked';
    await raiseAlert(alertContext, {
      kind: 'test-failed',
      severity: blocked ? 'error' : 'warning',
      subject: [...new Set(failing.map((test) => test.subject))].join(', '),
      runId: runIds[0],
      title: blocked
        ? `data tests failed: ${outcome.models.length > 0 ? outcome.models.join(', ') : 'nothing'} not published`
        : 'data tests warn',
      message: summary.join('\n'),
      hint: 'the failing rows are sampled in ops.test_results (datacycle run <run id>)',
      details: { transformId: outcome.transformId },
    });
  }
  for (const { threshold, crossings } of outcome.crossed ?? []) {
    const limit = threshold.above !== undefined ? `above ${threshold.above}` : `below ${threshold.below}`;
    const name = (crossing: (typeof crossings)[number]) =>
      crossing.label ??
      (Object.entries(crossing.series)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(', ') ||
        threshold.model);
    const shown = crossings
      .slice(0, 20)
      .map(
        (crossing) =>
          `${name(crossing)}: ${crossing.value}${crossing.previous === null ? '' : ` (was ${crossing.previous})`}`,
      );
    await raiseAlert(alertContext, {
      kind: 'threshold-crossed',
      severity: threshold.severity,
      subject: threshold.model,
      runId: runIds[0],
      title: threshold.title
        ? `${threshold.title}: ${crossings.length} series crossed`
        : `${threshold.model}.${threshold.measure} went ${limit} for ${crossings.length} series`,
      message: [...shown, ...(crossings.length > 20 ? [`… and ${crossings.length - 20} more`] : [])].join(
        '\n',
      ),
      hint: `the history is at /datasets/${threshold.model}/history?measure=${threshold.measure}, and on the model's portal page`,
      details: {
        transformId: outcome.transformId,
        indicator: {
          model: threshold.model,
          measure: threshold.measure,
          ...(threshold.above !== undefined ? { above: threshold.above } : { below: threshold.below }),
          crossings,
        },
      },
    });
  }
  // Lineage: each model's run and each tested relation's assertions.
  const built = context.project.models.filter((model) => outcome.models.includes(model.name));
  await emitTransformLineage(context.lineage, () =>
    transformLineage(pool, context.project, built, outcome, { started, ended: new Date() }),
  );
  // Publication follows only a pass whose error-level tests passed.
  if ((outcome.status === 'swapped-in' || outcome.status === 'nothing-to-do') && context.eventBus) {
    await publishEvent(context.eventBus, pipelineEvents.datasetTransformed, {
      transformId: outcome.transformId,
      datasets: outcome.datasets,
      models: outcome.models,
      runIds,
    });
  }
  return outcome;
}
