import { parseDocument } from 'yaml';
import { z } from 'zod';
import { dataTestSchema } from './test-declarations';

const column = z.string().min(1);
/** A parameter name that Python and R both accept. */
const parameterPattern = /^[A-Za-z][A-Za-z0-9_]*$/;

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
    /**
     * Followed over time: each pass that publishes the model keeps a snapshot of `values` for
     * each series (`key`), queryable at /datasets/{name}/history and charted on the portal.
     */
    indicator: z
      .strictObject({
        /** The columns that identify a series (none: the model is one row, one series). */
        key: z.union([column, z.array(column).min(1)]).optional(),
        /** The numeric columns followed. */
        values: z.array(column).min(1),
        /** A column naming each series on charts (else its key). */
        label: column.optional(),
      })
      .optional(),
    /**
     * Python and R models: the relations their function receives, by parameter name
     * (`stations: ref('irve_points')`). SQL models name theirs in the SQL.
     */
    inputs: z
      .record(
        z.string().regex(parameterPattern, 'a parameter name'),
        z.union([
          z.string(),
          // Only some columns: less to export, to read and to hold in memory.
          z.strictObject({ from: z.string(), columns: z.array(z.string().min(1)).min(1) }),
        ]),
      )
      .optional(),
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

/** The languages a model is written in, by file extension: .sql, .py, .R. */
export type ModelLanguage = 'sql' | 'python' | 'r';

export const modelExtensions: Record<string, ModelLanguage> = { '.sql': 'sql', '.py': 'python', '.R': 'r' };

/** A Python or R model's input: the parameter of its function and the relation it receives. */
export interface ModelInput {
  parameter: string;
  kind: 'ref' | 'source';
  name: string;
  /** The columns it receives (all when absent). */
  columns?: string[];
}

export interface Model {
  /** The file name without its extension: the name of its relation in the enriched schema. */
  name: string;
  /** Path of the file, relative to the project (for messages). */
  file: string;
  language: ModelLanguage;
  header: ModelHeader;
  /**
   * SQL: the SQL after the header, as written (templates not rendered). Python and R: the
   * whole file, which the model's runner executes.
   */
  code: string;
  /** 1-based line of the file where `code` starts (to place errors in the file). */
  codeLine: number;
  /** Python and R: the function's parameters and what each receives; SQL: none. */
  inputs: ModelInput[];
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

/** Splits a model file into its header and code, and finds what it depends on. */
export function parseModel(
  name: string,
  file: string,
  text: string,
  language: ModelLanguage = 'sql',
): { model: Model; issues: [] } | { model?: undefined; issues: ModelIssue[] } {
  const issues: ModelIssue[] = [];
  if (!modelNamePattern.test(name)) {
    issues.push({
      path: '',
      message: `model name "${name}" (the file name) must be lower-case letters, digits and underscores, starting with a letter`,
    });
  }
  const split = splitHeader(text, language);
  if ('problem' in split) return { issues: [...issues, { path: 'header', message: split.problem }] };
  const document = parseDocument(split.yaml);
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
  const refs = new Set<string>();
  const sources = new Set<string>();
  const inputs: ModelInput[] = [];
  if (language === 'sql') {
    if (header?.inputs)
      issues.push({
        path: 'header.inputs',
        message:
          "a SQL model names its inputs in its SQL, with {{ ref('model') }} and {{ source('dataset') }}",
      });
    for (const match of split.code.matchAll(templatePattern)) {
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
    if (!/\S/.test(split.code.replace(templatePattern, '')))
      issues.push({ path: 'sql', message: 'the model has no SQL' });
  } else if (header) {
    if (header.materialized !== 'table')
      issues.push({
        path: 'header.materialized',
        message: `a ${language === 'python' ? 'Python' : 'R'} model is materialized as a table (its function's result is stored)`,
      });
    for (const [parameter, declared] of Object.entries(header.inputs ?? {})) {
      const target = typeof declared === 'string' ? declared : declared.from;
      const call = callPattern.exec(target.trim());
      if (!call) {
        issues.push({
          path: `header.inputs.${parameter}`,
          message: `"${target}": write ref('model') or source('dataset')`,
        });
        continue;
      }
      const kind = call[1] as 'ref' | 'source';
      inputs.push({
        parameter,
        kind,
        name: call[2]!,
        ...(typeof declared === 'string' ? {} : { columns: declared.columns }),
      });
      (kind === 'ref' ? refs : sources).add(call[2]!);
    }
  }
  if (issues.length > 0 || !header) return { issues };
  return {
    model: {
      name,
      file,
      language,
      header,
      code: split.code,
      codeLine: split.codeLine,
      inputs,
      refs: [...refs],
      sources: [...sources],
    },
    issues: [],
  };
}

/**
 * The YAML header of a model file and the code it heads. SQL: the `--` lines that open the
 * file, then the SQL. R: the `#` lines that open it; the whole file is the code. Python: the
 * module's docstring; the whole file is the code.
 */
function splitHeader(
  text: string,
  language: ModelLanguage,
): { yaml: string; code: string; codeLine: number } | { problem: string } {
  const lines = text.split('\n');
  if (language === 'python') {
    const opening = /^\s*(?:[rR])?("""|''')/.exec(text);
    if (!opening)
      return {
        problem: 'a Python model opens with its header, as the module docstring (""" … """), in YAML',
      };
    const quote = opening[1]!;
    const start = opening[0].length;
    const end = text.indexOf(quote, start);
    if (end < 0) return { problem: `the docstring opened with ${quote} is not closed` };
    return { yaml: dedent(text.slice(start, end)), code: text, codeLine: 1 };
  }
  const marker = language === 'sql' ? /^\s*--/ : /^\s*#/;
  let headerEnd = 0;
  while (headerEnd < lines.length && marker.test(lines[headerEnd]!)) headerEnd++;
  const yaml = lines
    .slice(0, headerEnd)
    .map((line) => line.replace(language === 'sql' ? /^\s*-- ?/ : /^\s*#'? ?/, ''))
    .join('\n');
  if (language === 'sql') return { yaml, code: lines.slice(headerEnd).join('\n'), codeLine: headerEnd + 1 };
  return { yaml, code: text, codeLine: 1 };
}

/** A docstring's lines without the indentation they share. */
function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((line) => /\S/.test(line)).map((line) => /^ */.exec(line)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common)).join('\n');
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
