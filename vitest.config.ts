import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One test file = one process: chdb binds one data directory per process.
    pool: 'forks',
    // Two files at a time on two cores (vitest's default there is one: cores - 1). Measured on this machine in CI:
    // the suite in 890 s one file at a time, 690-750 s two at a time.
    maxWorkers: 2,
    include: ['tests/**/*.test.ts', 'rules/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
