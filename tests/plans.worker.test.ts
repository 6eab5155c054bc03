import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function startWorker(redisPrefix: string, yieldMs: number) {
  const checked: string[] = [];
  const checker = { recheck: async (planId: string) => (checked.push(planId), null) } as unknown as PlanChecker;
  const worker = startPlanCheckWorker({
    redisUrl: server.url, redisPrefix, lockMs: 5_000, stalledIntervalMs: 5_000, checker, yieldMs,
    metrics: createMetrics({ role: 'worker', version: 'test' }), log: createLogger('silent'),
  });
  return { worker, checked };
}

const filedPlan = (id: string) => Event.parse(plan({ id }));

describe('plan checks yield to rule evaluation', () => {
  it('waits while evaluations are waiting, and checks once none is', async () => {
    const prefix = 'yield-a';
    const evaluations = openQueue('evaluate', { url: server.url }, prefix);
    await evaluations.add('batch', { kind: 'batch', changes: [] });
    const { worker, checked } = startWorker(prefix, 60_000);
    try {
      await worker.enqueueFiled([filedPlan('pl-yield-a')]);
      // Long enough for a check that did not wait (one runs in milliseconds here), many pauses of 250 ms.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(checked).toEqual([]);
      await evaluations.drain();
      await eventually(async () => (checked.length > 0 ? true : undefined), 10_000, 'the check after evaluations caught up');
      expect(checked).toEqual(['pl-yield-a']);
    } finally {
      await worker.close(5_000);
      await evaluations.close();
    }
  });

  it('waits no longer than PLAN_CHECK_YIELD_MS after the check was queued, however far behind evaluations are', async () => {
    const prefix = 'yield-b';
    const evaluations = openQueue('evaluate', { url: server.url }, prefix);
    await evaluations.add('batch', { kind: 'batch', changes: [] });
    const { worker, checked } = startWorker(prefix, 1_000);
    try {
      const queued = Date.now();
      await worker.enqueueFiled([filedPlan('pl-yield-b')]);
      await eventually(async () => (checked.length > 0 ? true : undefined), 10_000, 'the check despite the waiting evaluation');
      expect(Date.now() - queued).toBeGreaterThanOrEqual(1_000);
      expect(checked).toEqual(['pl-yield-b']);
      expect(await evaluations.getWaitingCount()).toBe(1);
    } finally {
      await worker.close(5_000);
      await evaluations.close();
    }
  });

  it('does not wait at all with PLAN_CHECK_YIELD_MS=0', async () => {
    const prefix = 'yield-c';
    const evaluations = openQueue('evaluate', { url: server.url }, prefix);
    await evaluations.add('batch', { kind: 'batch', changes: [] });
    const { worker, checked } = startWorker(prefix, 0);
    try {
      await worker.enqueueFiled([filedPlan('pl-yield-c')]);
      await eventually(async () => (checked.length > 0 ? true : undefined), 10_000, 'the check');
      expect(checked).toEqual(['pl-yield-c']);
    } finally {
      await worker.close(5_000);
      await evaluations.close();
    }
  });
});
