import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { compileProject, type Project } from '@datacycle/core';
import type { RunnerCode } from './constructs/model-runners';

/** datacycle's own folder: cdk/.. from the sources, dist/.. from the bundled app. */
export const packageRoot = path.resolve(import.meta.dirname, '..');

/** Where `npm run build` puts the function code shipped in the package (see bundleLambdaCode). */
export const prebuiltLambdaDir = path.join(packageRoot, 'dist', 'lambda');

/**
 * The code a project's stack deploys: the prebuilt core layer as it is, and each prebuilt
 * handler staged in `buildDir` with the project compiled beside it (project.json).
 */
export function stageLambdaCode(
  project: Project,
  buildDir: string,
  prebuilt = prebuiltLambdaDir,
  options: { rLayerArn?: string } = {},
): { coreLayer: string; functions: Record<string, string>; runners: RunnerCode } {
  const handlers = path.join(prebuilt, 'functions');
  if (!existsSync(handlers))
    throw new Error(`no function code in ${prebuilt}: build datacycle first (npm run build)`);
  const compiled = compileProject(project);
  const functions: Record<string, string> = {};
  for (const name of readdirSync(handlers).sort()) {
    const out = path.join(buildDir, 'functions', name);
    mkdirSync(out, { recursive: true });
    for (const file of readdirSync(path.join(handlers, name)))
      copyFileSync(path.join(handlers, name, file), path.join(out, file));
    writeFileSync(path.join(out, 'project.json'), compiled);
    functions[name] = out;
  }
  const languages = new Set(project.models.map((model) => model.language));
  const runners: RunnerCode = {};
  if (languages.has('python')) {
    const code = path.join(buildDir, 'runners', 'python');
    cpSync(path.join(prebuilt, 'runners', 'python'), code, { recursive: true });
    runners.python = { code, layer: pythonModelsLayer(path.join(code, 'requirements.txt'), buildDir) };
  }
  if (languages.has('r')) {
    const code = path.join(buildDir, 'runners', 'r');
    cpSync(path.join(prebuilt, 'runners', 'r'), code, { recursive: true });
    runners.r = { code, layerArn: options.rLayerArn };
  }
  return { coreLayer: path.join(prebuilt, 'layers', 'core'), functions, runners };
}

/**
 * The Python models' layer: the pinned requirements installed for Lambda's python3.11 on
 * x86_64 (wheels only, whatever the machine deploying), into `buildDir`, again only when the
 * requirements change.
 */
function pythonModelsLayer(requirements: string, buildDir: string): string {
  const layer = path.join(buildDir, 'layers', 'python-models');
  const stamp = path.join(layer, '.requirements-sha256');
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return layer;
  rmSync(layer, { recursive: true, force: true });
  const args = [
    ...['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--no-deps'],
    ...['--target', path.join(layer, 'python'), '--platform', 'manylinux2014_x86_64'],
    ...['--python-version', '3.11', '--implementation', 'cp', '--only-binary=:all:', '-r', requirements],
  ];
  try {
    execFileSync(process.env.DATACYCLE_PIP_PYTHON ?? 'python3', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message;
    throw new Error(
      `the Python models' layer (pandas) could not be installed with pip: ${stderr.trim()}\n` +
        'datacycle needs python3 with pip, and the package index reachable, to deploy Python models',
      { cause: error },
    );
  }
  writeFileSync(stamp, wanted);
  return layer;
}
