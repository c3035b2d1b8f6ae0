import path from 'node:path';
import { loadProject, type Project } from '@datacycle/core';
import { bundleCoreLayer, bundleFunction, functionNames } from '../../cdk/bundle';

/** The example project and its bundled functions: what a DatacycleStack of it is built from. */
export async function exampleStackInputs(): Promise<{
  project: Project;
  code: { coreLayer: string; functions: Record<string, string> };
}> {
  const loaded = await loadProject(path.resolve(import.meta.dirname, '../../examples/territoires'));
  if (!loaded.ok) throw new Error('the example project should be valid');
  const project = loaded.project;
  return {
    project,
    code: {
      coreLayer: bundleCoreLayer(),
      functions: Object.fromEntries(functionNames().map((name) => [name, bundleFunction(name, project)])),
    },
  };
}
