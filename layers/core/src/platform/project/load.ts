import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { tableSchemaSchema } from '../table-schema';
import { orderModels } from './model-graph';
import { checkModels, checkThresholds, readModels } from './models';
import type { Dataset, ProjectIssue, ProjectLoadResult } from './types';
import { datasetIdPattern, datasetSchema, projectSchema } from './schema';

/** Reads and validates a whole data project, collecting every issue rather than the first. */
export async function loadProject(projectDir: string): Promise<ProjectLoadResult> {
  const issues: ProjectIssue[] = [];
  const rel = (file: string) => path.relative(process.cwd(), file) || file;

  const configFile = path.join(projectDir, 'datacycle.yaml');
  const config = await readValidated(configFile, 'yaml', projectSchema, issues, rel);

  const datasetsDir = path.join(projectDir, 'datasets');
  const datasetFiles = await listFiles(datasetsDir, /\.ya?ml$/);
  if (datasetFiles === undefined) {
    issues.push({ file: rel(datasetsDir), path: '', message: 'folder datasets/ is missing' });
  }
  const datasets: Dataset[] = [];
  for (const file of datasetFiles ?? []) {
    const id = path.basename(file).replace(/\.ya?ml$/, '');
    if (!datasetIdPattern.test(id)) {
      issues.push({
        file: rel(file),
        path: '',
        message: `dataset id "${id}" (the file name) must be lower-case letters, digits and dashes, starting with a letter`,
      });
      continue;
    }
    const datasetConfig = await readValidated(file, 'yaml', datasetSchema, issues, rel);
    if (!datasetConfig) continue;
    const schemaFile = path.resolve(path.dirname(file), datasetConfig.schema);
    const tableSchema = await readValidated(schemaFile, 'json', tableSchemaSchema, issues, rel, {
      file: rel(file),
      path: 'schema',
    });
    if (tableSchema) datasets.push({ id, config: datasetConfig, tableSchema });
  }
  checkSourcePrefixes(datasets, datasetsDir, issues, rel);
  checkForeignKeys(datasets, datasetsDir, issues, rel);

  // models/ is optional: a project may only collect and share.
  const models = await readModels(
    (await listFiles(path.join(projectDir, 'models'), /\.(sql|py|R)$/)) ?? [],
    issues,
    rel,
  );
  checkModels(models, datasets, datasetsDir, issues, rel);
  if (config) checkThresholds(config.indicators.thresholds, models, rel(configFile), issues);
  const ordered = orderModels(models);

  if (issues.length > 0 || !config || 'cycle' in ordered) return { ok: false, issues };
  return {
    ok: true,
    project: { config, datasets: datasets.sort((a, b) => a.id.localeCompare(b.id)), models: ordered.order },
  };
}

function checkSourcePrefixes(
  datasets: Dataset[],
  datasetsDir: string,
  issues: ProjectIssue[],
  rel: (file: string) => string,
) {
  const owner = new Map<string, string>();
  for (const dataset of datasets) {
    dataset.config.sources.forEach((source, index) => {
      // Collected files land under "<dataset id>/"; dropped files under their declared prefix.
      const prefix = source.type === 's3' ? source.prefix : `${dataset.id}/`;
      const other = owner.get(prefix);
      if (other && other !== dataset.id) {
        issues.push({
          file: rel(path.join(datasetsDir, `${dataset.id}.yaml`)),
          path: source.type === 's3' ? `sources[${index}].prefix` : `sources[${index}]`,
          message: `landing prefix "${prefix}" is already used by dataset "${other}"`,
        });
      }
      owner.set(prefix, dataset.id);
    });
  }
}

/** A foreign key must point at a dataset of the project, on fields that exist on both sides. */
function checkForeignKeys(
  datasets: Dataset[],
  datasetsDir: string,
  issues: ProjectIssue[],
  rel: (file: string) => string,
) {
  const byId = new Map(datasets.map((dataset) => [dataset.id, dataset]));
  for (const dataset of datasets) {
    (dataset.tableSchema.foreignKeys ?? []).forEach((foreignKey, index) => {
      const where = {
        file: rel(path.join(datasetsDir, `${dataset.id}.yaml`)),
        path: `schema.foreignKeys[${index}]`,
      };
      const own = new Set(dataset.tableSchema.fields.map((field) => field.name));
      const fields = typeof foreignKey.fields === 'string' ? [foreignKey.fields] : foreignKey.fields;
      const referencedFields =
        typeof foreignKey.reference.fields === 'string'
          ? [foreignKey.reference.fields]
          : foreignKey.reference.fields;
      for (const field of fields)
        if (!own.has(field)) issues.push({ ...where, message: `field "${field}" is not in the schema` });
      const resource = foreignKey.reference.resource;
      const target = resource === '' ? dataset : byId.get(resource);
      if (!target) {
        issues.push({
          ...where,
          message: `reference.resource "${resource}" is not a dataset of the project`,
        });
        return;
      }
      const theirs = new Set(target.tableSchema.fields.map((field) => field.name));
      for (const field of referencedFields) {
        if (!theirs.has(field))
          issues.push({
            ...where,
            message: `referenced field "${field}" is not in the schema of ${target.id}`,
          });
      }
      if (fields.length !== referencedFields.length)
        issues.push({ ...where, message: 'fields and reference.fields differ in length' });
    });
  }
}

async function listFiles(dir: string, pattern: RegExp): Promise<string[] | undefined> {
  try {
    const names = await readdir(dir);
    return names
      .filter((name) => pattern.test(name))
      .sort()
      .map((name) => path.join(dir, name));
  } catch {
    return undefined;
  }
}

async function readValidated<T extends z.ZodType>(
  file: string,
  kind: 'yaml' | 'json',
  schema: T,
  issues: ProjectIssue[],
  rel: (file: string) => string,
  referencedFrom?: { file: string; path: string },
): Promise<z.infer<T> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const where = referencedFrom ?? { file: rel(file), path: '' };
    issues.push({ ...where, message: `file ${rel(file)} not found` });
    return undefined;
  }
  let data: unknown;
  if (kind === 'yaml') {
    const document = parseDocument(text, { prettyErrors: true });
    if (document.errors.length > 0) {
      for (const error of document.errors) issues.push({ file: rel(file), path: '', message: error.message });
      return undefined;
    }
    data = document.toJS();
  } else {
    try {
      data = JSON.parse(text);
    } catch (error) {
      issues.push({ file: rel(file), path: '', message: `invalid JSON: ${(error as Error).message}` });
      return undefined;
    }
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      issues.push({ file: rel(file), path: formatPath(issue.path), message: issue.message });
    }
    return undefined;
  }
  return result.data;
}

function formatPath(parts: readonly PropertyKey[]): string {
  return parts
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
