import type pg from 'pg';
import {
  columnLineage,
  emitLineage,
  jobRunEvents,
  lineageNamespace,
  outputStatistics,
  qualityAssertions,
  relationDataset,
  schemaFacets,
  type LineageSink,
  type RunEvent,
} from '../../platform/lineage';
import type { Project } from '../../platform/project';
import { renderModelSql, type Model } from '../../platform/project/model';
import { datasetTableName, qualified } from '../../platform/warehouse';
import type { TestResult } from './data-tests';

/**
 * The OpenLineage events of a transform pass: a run of each model's job (START, then COMPLETE
 * with the output's schema, row count and, for SQL, column lineage; or FAIL with why nothing
 * was published), and a run of each tested relation's test job with its assertions.
 */
export async function transformLineage(
  pool: pg.Pool,
  project: Project,
  models: readonly Model[],
  outcome: { status: string; error?: string; tests: readonly TestResult[] },
  times: { started: Date; ended: Date },
): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const published = outcome.status === 'swapped-in';
  for (const model of models) {
    const inputs = [
      ...model.sources.map((name) => relationDataset(project, 'source', name)),
      ...model.refs.map((name) => relationDataset(project, 'ref', name)),
    ];
    const output = relationDataset(project, 'ref', model.name);
    if (published) {
      const described = await describeRelation(pool, model, lineageNamespace(project)).catch(() => undefined);
      if (described) {
        output.facets = {
          ...schemaFacets(described.columns, model.header.description),
          ...(described.lineage ? columnLineage(described.lineage) : {}),
        };
        if (described.rows !== undefined) output.outputFacets = outputStatistics(described.rows);
      }
    }
    events.push(
      ...jobRunEvents(
        {
          namespace: lineageNamespace(project),
          job: `transform.${model.name}`,
          jobType: `MODEL_${model.language.toUpperCase()}`,
          ...(model.language === 'sql' ? { sql: model.code } : {}),
          inputs,
          outputs: [output],
        },
        times,
        published
          ? { status: 'COMPLETE' }
          : { status: 'FAIL', error: outcome.error ?? `nothing published: ${outcome.status}` },
      ),
    );
  }
  // The tests, one job per relation tested, its assertions on the relation as input.
  const bySubject = new Map<string, TestResult[]>();
  for (const test of outcome.tests) {
    const key = `${test.subjectKind}:${test.subject}`;
    bySubject.set(key, [...(bySubject.get(key) ?? []), test]);
  }
  for (const [key, tests] of bySubject) {
    const [kind, subject] = key.split(/:(.*)/) as ['dataset' | 'model', string];
    const dataset = relationDataset(project, kind === 'dataset' ? 'source' : 'ref', subject);
    dataset.inputFacets = qualityAssertions(
      tests.map((test) => ({
        assertion: test.kind,
        success: test.status === 'pass',
        severity: test.severity,
        name: test.test,
      })),
    );
    events.push(
      ...jobRunEvents(
        {
          namespace: lineageNamespace(project),
          job: `test.${subject}`,
          jobType: 'TEST',
          inputs: [dataset],
        },
        times,
        { status: 'COMPLETE' },
      ),
    );
  }
  return events;
}

/** Emits the pass's events; lineage never fails the pass. */
export async function emitTransformLineage(
  sink: LineageSink | undefined,
  build: () => Promise<RunEvent[]>,
): Promise<void> {
  if (!sink) return;
  try {
    await emitLineage(sink, await build());
  } catch (error) {
    console.error(
      JSON.stringify({ level: 'warn', message: 'transform lineage not emitted', error: String(error) }),
    );
  }
}

/**
 * A published model's columns, its row count (tables), and for a SQL model the input columns
 * each output column is computed from, read off PostgreSQL's own plan (EXPLAIN VERBOSE names
 * the columns each output expression uses); none where the plan does not say.
 */
async function describeRelation(
  pool: pg.Pool,
  model: Model,
  namespace: string,
): Promise<{
  columns: { name: string; type: string; description?: string }[];
  rows?: number;
  lineage?: Record<string, { namespace: string; name: string; field: string }[]>;
}> {
  const relation = qualified('enriched', model.name);
  const { rows: columns } = await pool.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [relation],
  );
  const described = columns.map((column) => ({
    ...column,
    ...(model.header.columns[column.name] ? { description: model.header.columns[column.name] } : {}),
  }));
  const rows =
    model.header.materialized === 'view'
      ? undefined
      : Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${relation}`)).rows[0]?.n ?? 0);
  if (model.language !== 'sql') return { columns: described, rows };
  const sql = renderModelSql(model.code, (kind, name) =>
    kind === 'source' ? qualified('raw', datasetTableName(name)) : qualified('enriched', name),
  );
  const { rows: plan } = await pool.query<{ 'QUERY PLAN': PlanRoot[] }>(
    `EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`,
  );
  const root = plan[0]?.['QUERY PLAN'][0]?.Plan;
  if (!root?.Output || root.Output.length !== columns.length) return { columns: described, rows };
  const aliases = new Map<string, string>();
  const visit = (node: PlanNode) => {
    if (node.Alias && node['Relation Name'] && node.Schema)
      aliases.set(node.Alias, `${node.Schema}.${node['Relation Name']}`);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  // A plan over one relation names its columns unqualified: they can only be that relation's.
  const [only] = aliases.size === 1 ? [...aliases.values()] : [];
  const onlyColumns = only
    ? new Set(
        (
          await pool.query<{ name: string }>(
            `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
            [only],
          )
        ).rows.map((row) => row.name),
      )
    : undefined;
  const lineage: Record<string, { namespace: string; name: string; field: string }[]> = {};
  root.Output.forEach((expression, index) => {
    const inputs = new Map<string, { name: string; field: string }>();
    // alias.column, alias."Column", or (one relation) a bare column that is not a function name.
    // (String constants first blanked: a word in a literal is no column.)
    for (const match of expression
      .replace(/'(?:[^']|'')*'/g, "''")
      .matchAll(/(?:\b([a-z_][a-z0-9_]*)\.)?(?:"((?:[^"]|"")+)"|\b([a-z_][a-z0-9_$]*)\b(?!\s*\())/gi)) {
      const field = match[2]?.replace(/""/g, '"') ?? match[3]!;
      const table = match[1] ? aliases.get(match[1]) : onlyColumns?.has(field) ? only : undefined;
      if (!table) continue;
      inputs.set(`${table}.${field}`, { name: table, field });
    }
    if (inputs.size > 0)
      lineage[columns[index]!.name] = [...inputs.values()].map((input) => ({ namespace, ...input }));
  });
  return { columns: described, rows, lineage };
}

interface PlanNode {
  Alias?: string;
  Schema?: string;
  'Relation Name'?: string;
  Output?: string[];
  Plans?: PlanNode[];
}
interface PlanRoot {
  Plan: PlanNode;
}
