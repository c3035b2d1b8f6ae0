import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileProject, type Project } from '@datacycle/core';

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
): { coreLayer: string; functions: Record<string, string> } {
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
  return { coreLayer: path.join(prebuilt, 'layers', 'core'), functions };
}
