import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject, type Project } from '@datacycle/core';
import { bundleCoreLayer, bundleFunction, functionNames, repoRoot } from '../../cdk/bundle';
import type { RunnerCode } from '../../cdk/constructs/model-runners';

/** The example project and its bundled functions: what a DatacycleStack of it is built from. */
export async function exampleStackInputs(): Promise<{
  project: Project;
  code: { coreLayer: string; functions: Record<string, string>; runners: RunnerCode };
}> {
  const loaded = await loadProject(path.resolve(import.meta.dirname, '../../examples/territoires'));
  if (!loaded.ok) throw new Error('the example project should be valid');
  const project = loaded.project;
  return {
    project,
    code: {
      coreLayer: bundleCoreLayer(),
      functions: Object.fromEntries(functionNames().map((name) => [name, bundleFunction(name, project)])),
      // The runners as their sources (synthesis reads no file of them); an empty pandas layer.
      runners: {
        python: { code: path.join(repoRoot, 'functions/model-python'), layer: emptyLayer() },
        r: {
          code: path.join(repoRoot, 'functions/model-r'),
          layerArn: 'arn:aws:lambda:eu-west-3:123456789012:layer:r-jsonlite:1',
        },
      },
    },
  };
}

function emptyLayer(): string {
  const dir = path.join(tmpdir(), 'datacycle-test-empty-layer', 'python');
  mkdirSync(dir, { recursive: true });
  return path.dirname(dir);
}
