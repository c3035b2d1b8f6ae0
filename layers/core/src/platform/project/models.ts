import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { orderModels } from './model-graph';
import { modelExtensions, parseModel, type Chart, type Model } from './model';
import { parseRelationTarget, testColumns, type DataTest } from './test-declarations';
import type { Threshold } from './schema';
import type { Dataset, ProjectIssue } from './types';

/** Reads models/*.{sql,py,R}: each file parsed, its problems reported with file and place. */
export async function readModels(
  files: readonly string[],
  issues: ProjectIssue[],
  rel: (file: string) => string,
): Promise<Model[]> {
  const models: Model[] = [];
  for (const file of files) {
    const extension = path.extname(file);
    const parsed = parseModel(
      path.basename(file, extension),
      rel(file),
      await readFile(file, 'utf8'),
      modelExtensions[extension],
    );
    if (parsed.model) models.push(parsed.model);
    else for (const issue of parsed.issues) issues.push({ file: rel(file), ...issue });
  }
  return models;
}

/**
 * What can be known before anything runs: every ref and source exists, the models form no
 * cycle, tests name columns that exist (a dataset's schema fields; a model's documented
 * columns, when it documents them) and relations that exist.
 */
export function checkModels(
  models: readonly Model[],
  datasets: readonly Dataset[],
  datasetsDir: string,
  issues: ProjectIssue[],
  rel: (file: string) => string,
): void {
  const datasetIds = new Set(datasets.map((dataset) => dataset.id));
  const modelNames = new Set(models.map((model) => model.name));
  const seen = new Map<string, string>();
  for (const model of models) {
    const other = seen.get(model.name);
    if (other)
      issues.push({
        file: model.file,
        path: '',
        message: `${other} already defines the model ${model.name}: one file per model name`,
      });
    seen.set(model.name, model.file);
  }
  const relationExists = (test: DataTest) => {
    if (!('relationships' in test)) return undefined;
    const target = parseRelationTarget(test.relationships.to);
    const known = target.kind === 'source' ? datasetIds.has(target.name) : modelNames.has(target.name);
    return known
      ? undefined
      : `${test.relationships.to} is not a ${target.kind === 'source' ? 'dataset' : 'model'} of the project`;
  };

  for (const model of models) {
    for (const ref of model.refs)
      if (!modelNames.has(ref))
        issues.push({
          file: model.file,
          path: model.language === 'sql' ? 'sql' : 'header.inputs',
          message: `ref('${ref}'): no model named ${ref} in models/`,
        });
    for (const source of model.sources)
      if (!datasetIds.has(source))
        issues.push({
          file: model.file,
          path: model.language === 'sql' ? 'sql' : 'header.inputs',
          message: `source('${source}'): no dataset named ${source} in datasets/`,
        });
    // The columns a Python or R model asks of its inputs exist (when they are known).
    for (const input of model.inputs) {
      const known =
        input.kind === 'source'
          ? datasets
              .find((dataset) => dataset.id === input.name)
              ?.tableSchema.fields.map((field) => field.name)
          : Object.keys(models.find((other) => other.name === input.name)?.header.columns ?? {});
      if (!known || known.length === 0) continue;
      for (const column of input.columns ?? [])
        if (!known.includes(column))
          issues.push({
            file: model.file,
            path: `header.inputs.${input.parameter}.columns`,
            message: `column "${column}" is not in ${input.kind}('${input.name}')`,
          });
    }
    const documented = new Set(Object.keys(model.header.columns));
    // Columns are known only when the header documents them.
    const checkColumns = (where: { file: string; path: string }, columns: string[]) => {
      if (documented.size > 0)
        for (const column of columns)
          if (!documented.has(column))
            issues.push({
              ...where,
              message: `column "${column}" is not among the model's documented columns`,
            });
    };
    model.header.tests.forEach((test, index) => {
      const where = { file: model.file, path: `header.tests[${index}]` };
      if ('freshness' in test)
        issues.push({ ...where, message: 'freshness is a test of datasets, not of models' });
      checkColumns(where, testColumns(test));
      const unknown = relationExists(test);
      if (unknown) issues.push({ ...where, message: unknown });
    });
    const indicator = model.header.indicator;
    if (indicator)
      checkColumns({ file: model.file, path: 'header.indicator' }, [
        ...[indicator.key ?? []].flat(),
        ...indicator.values,
        ...(indicator.label ? [indicator.label] : []),
      ]);
    model.header.charts.forEach((chart, index) => {
      const where = { file: model.file, path: `header.charts[${index}]` };
      checkColumns(where, chartColumns(chart));
      if (chart.type === 'choropleth' && chart.areas) {
        const target = parseRelationTarget(chart.areas.from);
        const known = target.kind === 'source' ? datasetIds.has(target.name) : modelNames.has(target.name);
        if (!known)
          issues.push({ ...where, message: `areas: ${chart.areas.from} is not a relation of the project` });
      }
    });
  }

  for (const dataset of datasets) {
    const fields = new Set(dataset.tableSchema.fields.map((field) => field.name));
    dataset.config.tests.forEach((test, index) => {
      const where = { file: rel(path.join(datasetsDir, `${dataset.id}.yaml`)), path: `tests[${index}]` };
      for (const column of testColumns(test))
        if (!fields.has(column))
          issues.push({ ...where, message: `column "${column}" is not in the schema of ${dataset.id}` });
      const unknown = relationExists(test);
      if (unknown) issues.push({ ...where, message: unknown });
    });
  }

  const ordered = orderModels(models);
  if ('cycle' in ordered) {
    const first = models.find((model) => model.name === ordered.cycle[0])!;
    issues.push({
      file: first.file,
      path: 'sql',
      message: `models depend on each other in a cycle: ${ordered.cycle.join(' → ')}`,
    });
  }
}

/** The model columns a chart reads. */
function chartColumns(chart: Chart): string[] {
  if (chart.type === 'bar') return [chart.label, chart.value];
  return [chart.value, ...(chart.label ? [chart.label] : []), ...(chart.key ? [chart.key] : [])];
}

/** Each threshold names an indicator model, one of its values, and key columns for its series. */
export function checkThresholds(
  thresholds: readonly Threshold[],
  models: readonly Model[],
  file: string,
  issues: ProjectIssue[],
): void {
  thresholds.forEach((threshold, index) => {
    const where = { file, path: `indicators.thresholds[${index}]` };
    const indicator = models.find((model) => model.name === threshold.model)?.header.indicator;
    if (!indicator) {
      issues.push({ ...where, message: `${threshold.model} is not a model with an indicator: header` });
      return;
    }
    if (!indicator.values.includes(threshold.measure))
      issues.push({
        ...where,
        message: `${threshold.measure} is not among the values of ${threshold.model}'s indicator (${indicator.values.join(', ')})`,
      });
    const keys = [indicator.key ?? []].flat();
    for (const column of Object.keys(threshold.series ?? {}))
      if (!keys.includes(column))
        issues.push({
          ...where,
          message: `series: ${column} is not a key column of ${threshold.model}'s indicator`,
        });
  });
}
