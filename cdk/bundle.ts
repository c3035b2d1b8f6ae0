import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { compileProject, type Project } from '@datacycle/core';

export const repoRoot = path.resolve(import.meta.dirname, '..');
const dist = path.join(repoRoot, 'dist');

/** Functions are the folders of functions/ that hold a handler.ts. */
export function functionNames(): string[] {
  return readdirSync(path.join(repoRoot, 'functions'), { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && existsSync(path.join(repoRoot, 'functions', entry.name, 'handler.ts')),
    )
    .map((entry) => entry.name)
    .sort();
}

/** esbuild settings of every bundle: Lambda's Node.js 22, CommonJS, linked source maps. */
export const bundleOptions = {
  bundle: true,
  platform: 'node' as const,
  target: 'node22',
  format: 'cjs' as const,
  sourcemap: 'linked' as const,
  logLevel: 'warning' as const,
  // pg's optional native binding is never used.
  external: ['pg-native'],
  // import.meta is empty in CommonJS: code that reads it knows (see ValidationPool).
  logOverride: { 'empty-import-meta': 'silent' as const },
};

/**
 * The validation workers' script (see ValidationPool), bundled into `dir`: it must sit
 * beside every bundle that holds the core library.
 */
export function bundleValidationWorker(dir: string): void {
  buildSync({
    ...bundleOptions,
    entryPoints: [path.join(repoRoot, 'layers/core/src/stages/ingest/validation-worker.ts')],
    outfile: path.join(dir, 'validation-worker.cjs'),
  });
}

/**
 * The core library and its dependencies as a Lambda layer: nodejs/node_modules/@datacycle/core,
 * where the Node.js runtime's require() finds it (NODE_PATH includes /opt/nodejs/node_modules).
 */
export function bundleCoreLayer(out = path.join(dist, 'layers', 'core')): string {
  const pkg = path.join(out, 'nodejs', 'node_modules', '@datacycle', 'core');
  mkdirSync(pkg, { recursive: true });
  buildSync({
    ...bundleOptions,
    entryPoints: [path.join(repoRoot, 'layers/core/src/index.ts')],
    outfile: path.join(pkg, 'index.cjs'),
  });
  bundleValidationWorker(pkg);
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@datacycle/core', main: 'index.cjs' }, null, 2),
  );
  return out;
}

/** A thin handler bundle (the core library stays in the layer). */
export function bundleHandler(name: string, out: string): string {
  mkdirSync(out, { recursive: true });
  buildSync({
    ...bundleOptions,
    entryPoints: [path.join(repoRoot, 'functions', name, 'handler.ts')],
    outfile: path.join(out, 'index.cjs'),
    external: [...bundleOptions.external, '@datacycle/core'],
  });
  return out;
}

/** A thin handler bundle, with the project it serves compiled beside it. */
export function bundleFunction(name: string, project: Project): string {
  const out = bundleHandler(name, path.join(dist, 'functions', name));
  writeFileSync(path.join(out, 'project.json'), compileProject(project));
  return out;
}

/**
 * The code of every function, built once for any project (dist/lambda, shipped in the
 * package): the core layer and each thin handler. A deploy stages it with its project.
 */
export function bundleLambdaCode(out = path.join(dist, 'lambda')): string {
  bundleCoreLayer(path.join(out, 'layers', 'core'));
  for (const name of functionNames()) bundleHandler(name, path.join(out, 'functions', name));
  copyRunners(path.join(out, 'runners'));
  return out;
}

/** The Python and R models' runners (functions/model-*), shipped as they are. */
export const runnerSources = { python: 'model-python', r: 'model-r' } as const;

function copyRunners(out: string): void {
  for (const [language, folder] of Object.entries(runnerSources)) {
    const from = path.join(repoRoot, 'functions', folder);
    const to = path.join(out, language);
    mkdirSync(to, { recursive: true });
    for (const file of readdirSync(from)) {
      copyFileSync(path.join(from, file), path.join(to, file));
      chmodSync(path.join(to, file), statSync(path.join(from, file)).mode);
    }
  }
}
