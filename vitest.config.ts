import path from 'node:path';
import { defineConfig } from 'vitest/config';

const alias = {
  '@datacycle/core/validation': path.resolve(import.meta.dirname, 'layers/core/src/validation.ts'),
  '@datacycle/core/validation-start': path.resolve(import.meta.dirname, 'layers/core/src/validation-start.ts'),
  '@datacycle/core': path.resolve(import.meta.dirname, 'layers/core/src/index.ts'),
};
// The reference validators some integration and e2e tests run (frictionless, pyshacl, ...).
const conformanceVenv = path.resolve(import.meta.dirname, 'test/setup/conformance-venv.ts');

export default defineConfig({
  resolve: { alias },
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [conformanceVenv],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: [conformanceVenv],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The deployed stack is shared: run its scenarios one after the other.
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          // Fault injection against the real local stack (npm run faults): restarts, kills.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          // The package as a user installs it (npm test runs it last: it takes the local cloud over).
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
