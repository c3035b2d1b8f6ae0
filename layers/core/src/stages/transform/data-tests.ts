import type pg from 'pg';
import type { Dataset } from '../../platform/project';
import { quoteIdent } from '../../platform/warehouse';
import { describeTest, parseRelationTarget, type DataTest } from '../../platform/project/test-declarations';
import { freshnessLimitHours } from '../../platform/project/freshness';

export interface TestResult {
  subjectKind: 'dataset' | 'model';
  subject: string;
  test: string;
  kind: string;
  severity: 'error' | 'warn';
  status: 'pass' | 'fail' | 'error';
  /** Rows that break the test (for row_count and freshness: 1 when it fails). */
  failures: number;
  /** What was found, for a human: counts, the bounds, the age. */
  message: string;
  /** A few failing rows (long values cut). */
  sample: Record<string, unknown>[];
}

export interface TestSubject {
  kind: 'dataset' | 'model';
  name: string;
  /** The relation to test, quoted (a model's is its freshly built one until published). */
  relation: string;
  dataset?: Dataset;
}

const SAMPLE_ROWS = 5;

/**
 * Runs one test on `client` (inside the transform's transaction, so it sees the models as
 * built) and says what it found. An SQL error in a test (a bad expression) is a result with
 * status `error`, not an exception: the other tests still run.
 */
export async function runDataTest(
  client: pg.PoolClient,
  subject: TestSubject,
  test: DataTest,
  resolve: (kind: 'ref' | 'source', name: string) => string,
): Promise<TestResult> {
  const { kind, label } = describeTest(test);
  const base = {
    subjectKind: subject.kind,
    subject: subject.name,
    test: label,
    kind,
    severity: test.severity,
  };
  await client.query('SAVEPOINT data_test');
  try {
    const found = await evaluate(client, subject, test, resolve);
    await client.query('RELEASE SAVEPOINT data_test');
    return { ...base, ...found, status: found.failures > 0 ? 'fail' : 'pass' };
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT data_test');
    return {
      ...base,
      status: 'error',
      failures: 0,
      message: `the test could not run: ${(error as Error).message}`,
      sample: [],
    };
  }
}

async function evaluate(
  client: pg.PoolClient,
  subject: TestSubject,
  test: DataTest,
  resolve: (kind: 'ref' | 'source', name: string) => string,
): Promise<Pick<TestResult, 'failures' | 'message' | 'sample'>> {
  const rel = subject.relation;
  if ('row_count' in test) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${rel}`);
    const count = Number(rows[0]!.n);
    const { min, max } = test.row_count;
    const outside = (min !== undefined && count < min) || (max !== undefined && count > max);
    return {
      failures: outside ? 1 : 0,
      message: `${count} rows (expected ${min ?? 0}..${max ?? '∞'})`,
      sample: [],
    };
  }
  if ('freshness' in test) {
    const limit = subject.dataset
      ? freshnessLimitHours(subject.dataset, test.freshness.maxAgeHours)
      : undefined;
    const { rows } = await client.query<{ last: Date | null }>(
      `SELECT max(received_at) AS last FROM ops.files WHERE dataset = $1 AND status = 'loaded'`,
      [subject.name],
    );
    const last = rows[0]?.last;
    if (limit === undefined)
      return { failures: 0, message: 'no update frequency to check against', sample: [] };
    if (!last) return { failures: 1, message: 'never loaded', sample: [] };
    const hours = (Date.now() - last.getTime()) / 3_600_000;
    return {
      failures: hours > limit ? 1 : 0,
      message: `last load ${hours.toFixed(1)} h ago (at most ${limit} h)`,
      sample: [],
    };
  }
  const failing = failingRowsSql(rel, test, resolve);
  const { rows: counted } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM (${failing.sql}) AS failing`,
    failing.params,
  );
  const failures = Number(counted[0]!.n);
  const sample =
    failures === 0
      ? []
      : (
          await client.query<{ row: Record<string, unknown> }>(
            `SELECT to_jsonb(failing) AS row FROM (${failing.sql}) AS failing LIMIT ${SAMPLE_ROWS}`,
            failing.params,
          )
        ).rows.map((row) => shorten(row.row));
  return { failures, message: failures === 0 ? 'no failing rows' : `${failures} failing rows`, sample };
}

/** The SQL that selects the rows breaking a row-level test. */
function failingRowsSql(
  rel: string,
  test: DataTest,
  resolve: (kind: 'ref' | 'source', name: string) => string,
): { sql: string; params: unknown[] } {
  if ('not_null' in test)
    return { sql: `SELECT * FROM ${rel} WHERE ${quoteIdent(test.not_null)} IS NULL`, params: [] };
  if ('unique' in test) {
    const columns = [test.unique].flat().map(quoteIdent);
    return {
      sql: `SELECT ${columns.join(', ')}, count(*) AS occurrences FROM ${rel}
            WHERE ${columns.map((column) => `${column} IS NOT NULL`).join(' AND ')}
            GROUP BY ${columns.join(', ')} HAVING count(*) > 1`,
      params: [],
    };
  }
  if ('accepted_values' in test) {
    const column = quoteIdent(test.accepted_values.column);
    return {
      sql: `SELECT * FROM ${rel} WHERE ${column} IS NOT NULL AND NOT (${column}::text = ANY($1::text[]))`,
      params: [test.accepted_values.values.map(String)],
    };
  }
  if ('relationships' in test) {
    const { column, to, field } = test.relationships;
    const target = parseRelationTarget(to);
    return {
      sql: `SELECT child.* FROM ${rel} AS child WHERE child.${quoteIdent(column)} IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ${resolve(target.kind, target.name)} AS parent
                            WHERE parent.${quoteIdent(field)} = child.${quoteIdent(column)})`,
      params: [],
    };
  }
  if ('expression' in test) {
    // The expression is the project's own SQL, like its models: trusted, not user input.
    return { sql: `SELECT * FROM ${rel} WHERE NOT coalesce((${test.expression}), false)`, params: [] };
  }
  throw new Error('not a row-level test');
}

/** Sample rows stay readable: long values (geometries, texts) are cut. */
function shorten(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return [key, text !== undefined && text.length > 120 ? `${text.slice(0, 120)}…` : value];
    }),
  );
}
