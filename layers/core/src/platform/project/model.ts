import { parseDocument } from 'yaml';
import { z } from 'zod';
import { dataTestSchema } from './test-declarations';

const column = z.string().min(1);

/**
 * A chart of the model on its portal page. A bar chart: one bar per row, `label` against
 * `value`. A choropleth: `value` painted on areas, the model's own geometry or the polygons of
 * another relation joined on `key` (`areas: { from: "source('departements')", key: code }`).
 */
export const chartSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bar'),
    title: z.string().min(1),
    label: column,
    value: column,
    /** The largest values only, when there are many rows. */
    limit: z.number().int().positive().max(500).default(100),
  }),
  z.strictObject({
    type: z.literal('choropleth'),
    title: z.string().min(1),
    value: column,
    /** Column named on each area's tooltip. */
    label: column.optional(),
    key: column.optional(),
    areas: z.strictObject({ from: z.string().min(1), key: column }).optional(),
  }),
]);

export type Chart = z.infer<typeof chartSchema>;

/** The header of a model file: YAML in the `--` comment lines that open it. */
export const modelHeaderSchema = z
  .strictObject({
    /** view: always current, nothing stored; table: rebuilt whole; incremental: rows merged on unique_key. */
    materialized: z.enum(['view', 'table', 'incremental']).default('table'),
    unique_key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Short name in the catalog and the portal (else the description's first line). */
    title: z.string().min(1).optional(),
    description: z.string().min(1).optional(),
    /** Column documentation, published with the model. */
    columns: z.record(z.string(), z.string()).default({}),
    tests: z.array(dataTestSchema).default([]),
    /** Formats published when a pass publishes the model (geojson only when it has a geometry). */
    exports: z
      .array(z.enum(['csv', 'xlsx', 'geojson', 'parquet']))
      .default(['csv', 'xlsx', 'geojson', 'parquet']),
    charts: z.array(chartSchema).default([]),
  })
  .superRefine((header, context) => {
    header.charts.forEach((chart, index) => {
      if (chart.type === 'choropleth' && Boolean(chart.areas) !== Boolean(chart.key))
        context.addIssue({
          code: 'custom',
          path: ['charts', index],
          message: 'a choropleth on the areas of another relation names both key (this model) and areas.key',
        });
    });
    if (header.materialized === 'incremental' && !header.unique_key) {
      context.addIssue({
        code: 'custom',
        path: ['unique_key'],
        message: 'an incremental model needs unique_key',
      });
    }
  });

export type ModelHeader = z.infer<typeof modelHeaderSchema>;

export interface Model {
  /** The file name without .sql: the name of its relation in the enriched schema. */
  name: string;
  /** Path of the file, relative to the project (for messages). */
  file: string;
  header: ModelHeader;
  /** The SQL after the header, as written (templates not rendered). */
  sql: string;
  /** 1-based line of the file where `sql` starts (to place database errors in the file). */
  sqlLine: number;
  refs: string[];
  sources: string[];
}

export const modelNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

/** `{{ ref('model') }}`, `{{ source('dataset') }}`; anything else in braces is an error. */
const templatePattern = /\{\{\s*(.*?)\s*\}\}/g;
const callPattern = /^(ref|source)\(\s*['"]([^'"]+)['"]\s*\)$/;

export interface ModelIssue {
  path: string;
  message: string;
}

/** Splits a model file into its header and SQL, and finds what it depends on. */
export function parseModel(
  name: string,
  file: string,
  text: string,
): { model: Model; issues: [] } | { model?: undefined; issues: ModelIssue[] } {
  const lines = text.split('\n');
  let headerEnd = 0;
  while (headerEnd < lines.length && /^\s*--/.test(lines[headerEnd]!)) headerEnd++;
  const yamlText = lines
    .slice(0, headerEnd)
    .map((line) => line.replace(/^\s*-- ?/, ''))
    .join('\n');
  const issues: ModelIssue[] = [];
  if (!modelNamePattern.test(name)) {
    issues.push({
      path: '',
      message: `model name "${name}" (the file name) must be lower-case letters, digits and underscores, starting with a letter`,
    });
  }
  const document = parseDocument(yamlText);
  let header: ModelHeader | undefined;
  if (document.errors.length > 0) {
    issues.push(...document.errors.map((error) => ({ path: 'header', message: error.message })));
  } else {
    const parsed = modelHeaderSchema.safeParse(document.toJS() ?? {});
    if (parsed.success) header = parsed.data;
    else
      issues.push(
        ...parsed.error.issues.map((issue) => ({
          path: ['header', ...issue.path.map(String)].join('.'),
          message: issue.message,
        })),
      );
  }
  const sql = lines.slice(headerEnd).join('\n');
  const refs = new Set<string>();
  const sources = new Set<string>();
  for (const match of sql.matchAll(templatePattern)) {
    const call = callPattern.exec(match[1]!);
    if (!call) {
      issues.push({
        path: 'sql',
        message: `unknown template {{ ${match[1]} }}: use {{ ref('model') }} or {{ source('dataset') }}`,
      });
      continue;
    }
    (call[1] === 'ref' ? refs : sources).add(call[2]!);
  }
  if (!/\S/.test(sql.replace(templatePattern, '')))
    issues.push({ path: 'sql', message: 'the model has no SQL' });
  if (issues.length > 0 || !header) return { issues };
  return {
    model: { name, file, header, sql, sqlLine: headerEnd + 1, refs: [...refs], sources: [...sources] },
    issues: [],
  };
}

/** The SQL with its templates replaced by relation names. */
export function renderModelSql(
  sql: string,
  resolve: (kind: 'ref' | 'source', name: string) => string,
): string {
  return sql.replace(templatePattern, (_whole, inner: string) => {
    const call = callPattern.exec(inner)!;
    return resolve(call[1] as 'ref' | 'source', call[2]!);
  });
}
