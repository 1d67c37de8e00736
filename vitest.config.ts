import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'local/test/**/*.test.ts'],
    // Integration tests start a local cloud on a free port each; two cores, so keep files in parallel low.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
