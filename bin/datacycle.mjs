#!/usr/bin/env node
// Entry point of the `datacycle` command: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

// The local tools run on the machine's Node.js (20+); deployed functions run on Node.js 22.
// The AWS SDK's notice about its future Node.js 22 requirement is in docs/operations.md.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
