import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { createRandom, createWorld, generateEvents, type World } from '../../src/demo/index.js';
import { staffRound, type StaffRound } from '../../src/demo/staff.js';
import { bullPrefix, QUEUES } from '../../src/queues/index.js';
import { eventually, get, post, put, TEST_TOKEN, type TestService } from './service.js';

const DAY = 86_400_000;
const BATCH = 2_000;

export interface DemoHistory {
  world: World;
  /** How many events were sent. */
  events: number;
  staff: StaffRound[];
}

/**
 * A month of demo history sent through the API as the platforms would, waited for until stored and every
 * rule has raised an alert, then simulated staff acknowledging, resolving (false positives among them) and
 * handing on alerts and tickets.
 */
export async function loadDemoHistory(
  service: TestService, options: { seed: number; enterprisesPerRegion: number; regions: string[]; visitsPerDay: number; idPrefix: string },
): Promise<DemoHistory> {
  const world = createWorld(options);
  const send = async (method: 'PUT' | 'POST', path: string, body: unknown[]) => {
    const res = method === 'PUT' ? await put(`${service.url}${path}`, body) : await post(`${service.url}${path}`, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(method === 'PUT' ? 200 : 202);
  };
  await send('PUT', '/v1/agencies', world.agencies);
  for (let i = 0; i < world.enterprises.length; i += BATCH) await send('PUT', '/v1/enterprises', world.enterprises.slice(i, i + BATCH));
  const now = Date.now();
  const events = generateEvents(world, {
    seed: options.seed, from: new Date(now - 30 * DAY), to: new Date(now), visitsPerDay: options.visitsPerDay, violationRate: 0.3, idPrefix: options.idPrefix,
  });
  for (let i = 0; i < events.length; i += BATCH) await send('POST', '/v1/events', events.slice(i, i + BATCH));
  await eventually(async () => {
    const [stored] = await service.storage.query<{ n: string }>(
      'SELECT count(DISTINCT id) AS n FROM events WHERE id IN {ids:Array(String)}', { ids: events.map((e) => e.id) });
    return Number(stored!.n) === events.length ? true : undefined;
  }, 60_000, 'the history stored');
  // Evaluation runs after storing: alerts of every kind the world breaks appear while it drains.
  await eventually(async () => {
    const res = await get(`${service.url}/v1/alerts?limit=1&status=open`);
    return res.body?.items?.length > 0 ? true : undefined;
  }, 60_000, 'open alerts');

  const random = createRandom(options.seed);
  const staff: StaffRound[] = [];
  const happened = (what: keyof StaffRound) => staff.some((round) => round[what] > 0);
  const needed = ['acknowledged', 'falsePositives', 'ticketsResolved'] as const;
  while (staff.length < 8 && !needed.every(happened)) staff.push(await staffRound({ url: service.url, token: TEST_TOKEN }, random));
  await settled(service);
  return { world, events: events.length, staff };
}

/** Waits until no queue holds work: nothing stored, evaluated or ticketed changes the data any more. */
export async function settled(service: TestService): Promise<void> {
  const redis = new Redis(service.redisUrl);
  const queues = [QUEUES.store.name, QUEUES.evaluate.name, QUEUES.hotline.name].map((name) => new Queue(name, { connection: redis, prefix: bullPrefix(service.config.REDIS_PREFIX) }));
  try {
    await eventually(async () => {
      for (const queue of queues) {
        const n = await queue.getJobCounts('waiting', 'active', 'prioritized');
        if (n.waiting + n.active + n.prioritized > 0) return undefined;
      }
      return true;
    }, 90_000, 'every queue drained');
  } finally {
    for (const queue of queues) await queue.close();
    redis.disconnect();
  }
}
