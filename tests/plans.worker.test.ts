import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
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

interface Setup {
  yieldMs?: number;
  sharePercent?: number;
  /** Leave an evaluation job waiting, as when evaluations are behind. */
  evaluationsBehind?: boolean;
  /** How long each check takes. */
  checkMs?: number;
  plans?: number;
}

/**
 * The worker as set up, and plans filed (`pl-<prefix>-0`, ...); the checker records when each check starts. Each test
 * has a prefix of its own, hence queues of its own.
 */
async function withWorker(prefix: string, setup: Setup, test: (t: { checked: string[]; startedAt: number[]; evaluations: Queue; queued: number }) => Promise<void>) {
  const checked: string[] = [];
  const startedAt: number[] = [];
  const checker = {
    recheck: async (planId: string) => {
      startedAt.push(performance.now());
      await new Promise((r) => setTimeout(r, setup.checkMs ?? 0));
      checked.push(planId);
      return null;
    },
  } as unknown as PlanChecker;
  const evaluations = openQueue('evaluate', { url: server.url }, prefix);
  if (setup.evaluationsBehind) await evaluations.add('batch', { kind: 'batch', changes: [] });
  const worker = startPlanCheckWorker({
    redisUrl: server.url, redisPrefix: prefix, lockMs: 5_000, stalledIntervalMs: 5_000, checker,
    yieldMs: setup.yieldMs ?? 60_000, sharePercent: setup.sharePercent ?? 100,
    metrics: createMetrics({ role: 'worker', version: 'test' }), log: createLogger('silent'),
  });
  try {
    const queued = Date.now();
    await worker.enqueueFiled(Array.from({ length: setup.plans ?? 1 }, (_, i) => Event.parse(plan({ id: `pl-${prefix}-${i}` }))));
    await test({ checked, startedAt, evaluations, queued });
  } finally {
    await worker.close(5_000);
    await evaluations.close();
  }
}

const checkedSoon = (checked: string[], what: string, n = 1) => eventually(async () => (checked.length >= n ? true : undefined), 10_000, what);

describe('plan checks yield to rule evaluation', () => {
  it('waits while evaluations are waiting, and checks once none is', () => withWorker('yield-a', { evaluationsBehind: true }, async ({ checked, evaluations }) => {
    // Long enough for a check that did not wait (one runs in milliseconds here), many pauses of 250 ms.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(checked).toEqual([]);
    await evaluations.drain();
    await checkedSoon(checked, 'the check after evaluations caught up');
    expect(checked).toEqual(['pl-yield-a-0']);
  }));

  it('waits no longer than PLAN_CHECK_YIELD_MS after the check was queued, however far behind evaluations are', () =>
    withWorker('yield-b', { evaluationsBehind: true, yieldMs: 1_000 }, async ({ checked, evaluations, queued }) => {
      await checkedSoon(checked, 'the check despite the waiting evaluation');
      expect(Date.now() - queued).toBeGreaterThanOrEqual(1_000);
      expect(checked).toEqual(['pl-yield-b-0']);
      expect(await evaluations.getWaitingCount()).toBe(1);
    }));

  it('does not wait at all with PLAN_CHECK_YIELD_MS=0', () => withWorker('yield-c', { evaluationsBehind: true, yieldMs: 0 }, async ({ checked }) => {
    await checkedSoon(checked, 'the check');
    expect(checked).toEqual(['pl-yield-c-0']);
  }));
});

const gapsBetween = (startedAt: number[]) => startedAt.slice(1).map((t, i) => t - startedAt[i]!);

describe('plan checks take a bounded share of the worker while evaluations run', () => {
  // An evaluation left waiting is one under way; PLAN_CHECK_YIELD_MS=0 keeps the checks from waiting for it.
  it('rests three times as long as a check took at PLAN_CHECK_SHARE_PERCENT=25', () =>
    withWorker('share-25', { evaluationsBehind: true, yieldMs: 0, sharePercent: 25, checkMs: 200, plans: 3 }, async ({ checked, startedAt }) => {
      await checkedSoon(checked, 'three checks', 3);
      // 200 ms of check and 600 of rest between starts.
      for (const gap of gapsBetween(startedAt)) expect(gap).toBeGreaterThanOrEqual(790);
    }));

  it('checks back to back at 100', () =>
    withWorker('share-100', { evaluationsBehind: true, yieldMs: 0, sharePercent: 100, checkMs: 200, plans: 3 }, async ({ checked, startedAt }) => {
      await checkedSoon(checked, 'three checks', 3);
      for (const gap of gapsBetween(startedAt)) expect(gap).toBeLessThan(700);
    }));

  it('checks back to back when no evaluation is under way, whatever the share', () =>
    withWorker('share-idle', { sharePercent: 25, checkMs: 200, plans: 3 }, async ({ checked, startedAt }) => {
      await checkedSoon(checked, 'three checks', 3);
      for (const gap of gapsBetween(startedAt)) expect(gap).toBeLessThan(700);
    }));

  it('refuses a share that is not a whole percent from 1 to 100, naming the setting', () => {
    for (const bad of ['0', '101', '12.5', 'half']) {
      expect(() => loadConfig({ PLAN_CHECK_SHARE_PERCENT: bad })).toThrow(/PLAN_CHECK_SHARE_PERCENT/);
    }
    expect(loadConfig({ PLAN_CHECK_SHARE_PERCENT: '100' }).PLAN_CHECK_SHARE_PERCENT).toBe(100);
  });
});
