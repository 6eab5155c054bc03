import { defineConfig } from 'vitest/config';

// Each test file runs in its own process: the embedded ClickHouse engine allows
// one data directory per process, and each file starts its own Redis.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'rules/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
