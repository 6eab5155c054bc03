import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One test file = one process: chdb binds one data directory per process.
    pool: 'forks',
    include: ['tests/**/*.test.ts', 'rules/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
