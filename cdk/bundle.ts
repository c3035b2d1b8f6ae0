import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { compileProject, type Project, type WorkerScript } from '@datacycle/core';

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
  // pg's optional native binding is never used; parquet-wasm loads its WebAssembly module
  // from beside its own script: it ships as a package (see bundleCoreLayer).
  external: ['pg-native', 'parquet-wasm'],
  // import.meta is empty in CommonJS: code that reads it knows (see ValidationPool).
  logOverride: { 'empty-import-meta': 'silent' as const },
};

/** The core's worker scripts (see startWorker) and where their sources are. */
const workerSources: Record<WorkerScript, string> = {
  'validation-worker': 'layers/core/src/stages/ingest/validation-worker.ts',
  'parquet-worker': 'layers/core/src/stages/publish/parquet-worker.ts',
};

/**
 * The core's worker scripts (validation, Parquet encoding), bundled into `dir`: they must sit
 * beside every bundle that holds the core library.
 */
export function bundleWorkers(dir: string): void {
  for (const [script, source] of Object.entries(workerSources))
    buildSync({
      ...bundleOptions,
      entryPoints: [path.join(repoRoot, source)],
      outfile: path.join(dir, `${script}.cjs`),
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
  bundleWorkers(pkg);
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: '@datacycle/core', main: 'index.cjs' }, null, 2),
  );
  // The Parquet writer's package as it is (its Node.js build and WebAssembly module), where
  // the core's require() finds it.
  const parquetWasm = path.resolve(createRequire(import.meta.url).resolve('parquet-wasm/node'), '../..');
  const to = path.join(out, 'nodejs', 'node_modules', 'parquet-wasm');
  mkdirSync(to, { recursive: true });
  for (const file of ['package.json', 'LICENSE_MIT', 'LICENSE_APACHE'])
    copyFileSync(path.join(parquetWasm, file), path.join(to, file));
  cpSync(path.join(parquetWasm, 'node'), path.join(to, 'node'), { recursive: true });
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
