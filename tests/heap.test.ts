import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * HEAP_GROWTH_PERCENT bounds the garbage V8 lets pile up around the live heap before a full collection. Each run
 * is a process of its own (the flag is process-wide): the same live set and the same garbage, the peak heap
 * compared. On this machine: about 185 MB at 20%, 300–325 MB with the default (100), 500–540 MB with V8's own
 * choice (0).
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'heap-churn.ts');

const runFixture = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, encoding: 'utf8' });

function peakHeap(env: Record<string, string>): number {
  const run = runFixture(env);
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { peak: number }).peak;
}

describe('HEAP_GROWTH_PERCENT', () => {
  it('bounds the heap by the percent asked, and by default, where V8 alone lets garbage fill it', () => {
    const unbounded = peakHeap({ HEAP_GROWTH_PERCENT: '0' });
    const byDefault = peakHeap({});
    const tight = peakHeap({ HEAP_GROWTH_PERCENT: '20' });
    expect(byDefault).toBeLessThan(unbounded * 0.8);
    expect(tight).toBeLessThan(byDefault * 0.85);
  }, 60_000);

  it('refuses a value that is not a whole percent, naming the setting', () => {
    const run = runFixture({ HEAP_GROWTH_PERCENT: 'half' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('HEAP_GROWTH_PERCENT');
  });
});
