import { z } from 'zod';

const column = z.string().min(1);
const severity = z.enum(['error', 'warn']).default('error');

/**
 * A data test, declared on a dataset (datasets/<id>.yaml `tests:`) or a model (its header).
 * Each finds the rows that break it; `severity: error` (the default) stops publication of
 * every output it concerns, `warn` only reports.
 */
export const dataTestSchema = z.union([
  z.strictObject({ not_null: column, severity }),
  z.strictObject({ unique: z.union([column, z.array(column).min(1)]), severity }),
  z.strictObject({
    accepted_values: z.strictObject({
      column,
      values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
    }),
    severity,
  }),
  z.strictObject({
    relationships: z.strictObject({
      column,
      /** The relation the values must exist in: `source('<dataset>')` or `ref('<model>')`. */
      to: z
        .string()
        .regex(/^(source|ref)\(\s*'[^']+'\s*\)$/, { message: "write source('<dataset>') or ref('<model>')" }),
      field: column,
    }),
    severity,
  }),
  /** A condition every row must meet, in SQL (e.g. "puissance_nominale > 0"). */
  z.strictObject({ expression: z.string().min(1), severity }),
  z.strictObject({
    row_count: z
      .strictObject({
        min: z.number().int().nonnegative().optional(),
        max: z.number().int().nonnegative().optional(),
      })
      .refine((range) => range.min !== undefined || range.max !== undefined, {
        message: 'give min, max or both',
      }),
    severity,
  }),
  /**
   * Datasets only: the last load is at most `maxAgeHours` old (default: from the dataset's
   * accrualPeriodicity, with a margin). Also checked on a schedule, which raises stale alerts.
   */
  z.strictObject({
    freshness: z.strictObject({ maxAgeHours: z.number().positive().optional() }).default({}),
    severity,
  }),
]);

export type DataTest = z.infer<typeof dataTestSchema>;

/** A test's kind and a short label naming what it checks, e.g. "unique(code)". */
export function describeTest(test: DataTest): { kind: string; label: string } {
  if ('not_null' in test) return { kind: 'not_null', label: `not_null(${test.not_null})` };
  if ('unique' in test) return { kind: 'unique', label: `unique(${[test.unique].flat().join(', ')})` };
  if ('accepted_values' in test)
    return { kind: 'accepted_values', label: `accepted_values(${test.accepted_values.column})` };
  if ('relationships' in test) {
    const { column: from, to, field } = test.relationships;
    return { kind: 'relationships', label: `relationships(${from} → ${to}.${field})` };
  }
  if ('expression' in test) return { kind: 'expression', label: `expression(${test.expression})` };
  if ('row_count' in test) {
    const { min, max } = test.row_count;
    return { kind: 'row_count', label: `row_count(${min ?? ''}..${max ?? ''})` };
  }
  return { kind: 'freshness', label: `freshness(${test.freshness.maxAgeHours ?? 'accrualPeriodicity'})` };
}

/** Columns a test reads (checked against the schema at `datacycle check`). */
export function testColumns(test: DataTest): string[] {
  if ('not_null' in test) return [test.not_null];
  if ('unique' in test) return [test.unique].flat();
  if ('accepted_values' in test) return [test.accepted_values.column];
  if ('relationships' in test) return [test.relationships.column];
  return [];
}

/** The relation a relationships test points at. */
export function parseRelationTarget(to: string): { kind: 'source' | 'ref'; name: string } {
  const match = /^(source|ref)\(\s*'([^']+)'\s*\)$/.exec(to);
  if (!match) throw new Error(`not a relation: ${to}`);
  return { kind: match[1] as 'source' | 'ref', name: match[2]! };
}
