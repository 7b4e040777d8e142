// Settings every package's vitest.config.ts starts from. The JSON reporter
// writes a per-package result file that scripts/run-tests.mjs adds up into
// the "N passed, N failed" line CI reads.
import { defineConfig } from 'vitest/config';

export const sharedTestConfig = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
