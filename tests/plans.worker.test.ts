import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event } from '../src/ingest/schema.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/index.js';
import { startPlanCheckWorker, type PlanChecker } from '../src/plans/index.js';
import { openQueue } from '../src/queues/index.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { plan } from './support/fixtures.js';
import { eventually } from './support/service.js';

/**
 * The plan-check worker on a real redis-server, beside an evaluation queue that no worker drains here: its jobs stay
 * waiting for as long as a test wants evaluations to be behind. The checker records the checks it is asked for.
 */
let server: LocalRedis;
const dir = mkdtempSync(join(tmpdir(), 'qingjian-plan-worker-'));

beforeAll(async () => {
  server = await startLocalRedis({ dir });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The worker under `yieldMs`, an evaluation job left waiting, and a plan filed; the checker records each check.
 * Each test has a prefix of its own, hence queues of its own.
 */
async function withEvaluationsBehind(prefix: string, yieldMs: number, test: (t: { checked: string[]; evaluations: Queue; queued: number }) => Promise<void>) {
  const checked: string[] = [];
  const checker = { recheck: async (planId: string) => (checked.push(planId), null) } as unknown as PlanChecker;
  const evaluations = openQueue('evaluate', { url: server.url }, prefix);
  await evaluations.add('batch', { kind: 'batch', changes: [] });
  const worker = startPlanCheckWorker({
    redisUrl: server.url, redisPrefix: prefix, lockMs: 5_000, stalledIntervalMs: 5_000, checker, yieldMs,
    metrics: createMetrics({ role: 'worker', version: 'test' }), log: createLogger('silent'),
  });
  try {
    const queued = Date.now();
    await worker.enqueueFiled([Event.parse(plan({ id: `pl-${prefix}` }))]);
    await test({ checked, evaluations, queued });
  } finally {
    await worker.close(5_000);
    await evaluations.close();
  }
}

const checkedSoon = (checked: string[], what: string) => eventually(async () => (checked.length > 0 ? true : undefined), 10_000, what);

describe('plan checks yield to rule evaluation', () => {
  it('waits while evaluations are waiting, and checks once none is', () => withEvaluationsBehind('yield-a', 60_000, async ({ checked, evaluations }) => {
    // Long enough for a check that did not wait (one runs in milliseconds here), many pauses of 250 ms.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(checked).toEqual([]);
    await evaluations.drain();
    await checkedSoon(checked, 'the check after evaluations caught up');
    expect(checked).toEqual(['pl-yield-a']);
  }));

  it('waits no longer than PLAN_CHECK_YIELD_MS after the check was queued, however far behind evaluations are', () =>
    withEvaluationsBehind('yield-b', 1_000, async ({ checked, evaluations, queued }) => {
      await checkedSoon(checked, 'the check despite the waiting evaluation');
      expect(Date.now() - queued).toBeGreaterThanOrEqual(1_000);
      expect(checked).toEqual(['pl-yield-b']);
      expect(await evaluations.getWaitingCount()).toBe(1);
    }));

  it('does not wait at all with PLAN_CHECK_YIELD_MS=0', () => withEvaluationsBehind('yield-c', 0, async ({ checked }) => {
    await checkedSoon(checked, 'the check');
    expect(checked).toEqual(['pl-yield-c']);
  }));
});
