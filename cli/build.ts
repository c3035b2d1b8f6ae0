/**
 * Builds what the datacycle package ships (`npm run build`, run by `npm pack` and by `npm
 * start` / `npm test` in a checkout): compiled JavaScript only, so that an installed
 * datacycle runs without TypeScript.
 *   dist/cli.mjs (+ chunks)      the `datacycle` command; each command a chunk loaded on use
 *   dist/cdk-app.mjs             the CDK app `datacycle up` and `deploy` run
 *   dist/*-worker.cjs            the core's worker threads (validation of `datacycle validate`)
 *   dist/lambda/                 the core layer and every function's handler (esbuild, CommonJS)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { bundleLambdaCode, bundleWorkers, repoRoot } from '../cdk/bundle';

const dist = path.join(repoRoot, 'dist');

export async function buildPackage(): Promise<void> {
  const started = Date.now();
  rmSync(dist, { recursive: true, force: true });
  await build({
    entryPoints: { cli: path.join(repoRoot, 'cli/main.ts'), 'cdk-app': path.join(repoRoot, 'cdk/app.ts') },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The package's dependencies are installed beside it; only our own code is bundled.
    packages: 'external',
    alias: {
      // The offline surface first: the validate and infer commands load no pg or AWS SDK.
      '@datacycle/core/validation': path.join(repoRoot, 'layers/core/src/validation.ts'),
      '@datacycle/core/validation-start': path.join(repoRoot, 'layers/core/src/validation-start.ts'),
      '@datacycle/core': path.join(repoRoot, 'layers/core/src/index.ts'),
    },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  bundleWorkers(dist);
  bundleLambdaCode(path.join(dist, 'lambda'));
  console.log(`datacycle built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${dist}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildPackage();
