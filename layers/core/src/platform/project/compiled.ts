import { z } from 'zod';
import { tableSchemaSchema } from '../table-schema';
import { modelHeaderSchema } from './model';
import { datasetSchema, projectSchema } from './schema';
import type { Project } from './types';

/**
 * The project as deployed: validated config and resolved Table Schemas in one JSON document,
 * shipped beside each function's code and parsed once per container at cold start.
 */
export const compiledProjectSchema = z.object({
  config: projectSchema,
  datasets: z.array(z.object({ id: z.string(), config: datasetSchema, tableSchema: tableSchemaSchema })),
  models: z.array(
    z.object({
      name: z.string(),
      file: z.string(),
      language: z.enum(['sql', 'python', 'r']),
      header: modelHeaderSchema,
      code: z.string(),
      codeLine: z.number(),
      inputs: z.array(
        z.object({
          parameter: z.string(),
          kind: z.enum(['ref', 'source']),
          name: z.string(),
          columns: z.array(z.string()).optional(),
        }),
      ),
      refs: z.array(z.string()),
      sources: z.array(z.string()),
    }),
  ),
});

export function compileProject(project: Project): string {
  return JSON.stringify(project, null, 2);
}

export function parseCompiledProject(json: string): Project {
  return compiledProjectSchema.parse(JSON.parse(json));
}

export function findDatasetByKey(project: Project, key: string) {
  for (const dataset of project.datasets) {
    for (const source of dataset.config.sources) {
      if (source.type === 's3' && key.startsWith(source.prefix)) return dataset;
      if (source.type !== 's3' && key.startsWith(`${dataset.id}/`)) return dataset;
    }
  }
  return undefined;
}

/**
 * Why a message naming these datasets or models cannot be handled by this project: a name it
 * does not declare (the message was sent by another version of the project, or by hand).
 */
export function unknownOutputs(
  project: Pick<Project, 'datasets' | 'models'>,
  names: readonly string[],
  only: 'datasets' | 'outputs' = 'outputs',
): string | undefined {
  const known = new Set([
    ...project.datasets.map((dataset) => dataset.id),
    ...(only === 'outputs' ? project.models.map((model) => model.name) : []),
  ]);
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length === 0) return undefined;
  const what = only === 'datasets' ? 'dataset' : 'dataset or model';
  return (
    `${unknown.join(', ')}: not a ${what} of the deployed project ` +
    '(deploy the project that declares it, then replay the message: datacycle redrive)'
  );
}
