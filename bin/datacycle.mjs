#!/usr/bin/env node
// Entry point of the `datacycle` command: the compiled CLI (dist/cli.mjs, built by `npm run
// build`; the package ships it). In a checkout that was not built, the TypeScript sources run
// through tsx instead.
import { existsSync } from 'node:fs';

// The local tools run on the machine's Node.js (20+); deployed functions run on Node.js 24.
// The AWS SDK's notice about its future Node.js 22 requirement is in docs/operations.md.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const compiled = new URL('../dist/cli.mjs', import.meta.url);
let main;
if (existsSync(compiled)) ({ main } = await import(compiled.href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
