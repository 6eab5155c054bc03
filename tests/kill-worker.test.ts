import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { startClickHouseHttp } from './support/clickhouse-http.js';
import { checkin, creditCode } from './support/fixtures.js';
import { eventually, post, startTestService, type TestService } from './support/service.js';

/**
 * At-least-once delivery with no duplicate rows: the store worker runs as its
 * own process and is SIGKILLed several times while it holds jobs; after a
 * restart every acknowledged event is stored exactly once.
 */
const dir = mkdtempSync(join(tmpdir(), 'qingjian-kill-'));
let clickhouse: { url: string; close(): Promise<void> };
let redis: LocalRedis;
let api: TestService;
let worker: ChildProcess | undefined;

const workerEnv = () => ({
  ...process.env,
  REDIS_URL: redis.url,
  CLICKHOUSE_URL: clickhouse.url,
  DATA_DIR: join(dir, 'worker'),
  // Test files run in parallel: no fixed metrics port.
  METRICS_PORT: '0',
  WORKER_LOCK_MS: '2000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_CONCURRENCY: '8',
  STORE_BATCH_ROWS: '1000',
  STORE_BATCH_WAIT_MS: '100',
  LOG_LEVEL: 'warn',
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], { env: workerEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('error', (err) => console.error('worker failed to start', err));
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  clickhouse = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  redis = await startLocalRedis({ dir: join(dir, 'redis') });
  api = await startTestService({ REDIS_URL: redis.url, CLICKHOUSE_URL: clickhouse.url }, { api: true, worker: false }, join(dir, 'api'));
});

afterAll(async () => {
  if (worker && worker.exitCode === null) await kill(worker);
  await api?.stop();
  await redis?.stop();
  await clickhouse?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL of the store worker mid-batch', () => {
  it('loses nothing and duplicates nothing once it restarts', async () => {
    const company = (i: number) => creditCode('370602', 1 + (i % 300));
    const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 500 }, (_, i) => checkin({
      id: `kill-${b}-${i}`,
      enterprise_id: company(b * 500 + i),
      occurred_at: new Date(Date.UTC(2026, 8, 1) + (b * 500 + i) * 60_000).toISOString(),
    })));
    const total = batches.length * 500;
    for (const batch of batches) expect((await post(`${api.url}/v1/events`, batch)).status).toBe(202);

    const stored = async () => Number((await api.storage.query<{ n: string }>(
      "SELECT uniqExact(id) AS n FROM events WHERE startsWith(id, 'kill-')"))[0]!.n);
    const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUES.store.name, { connection: queueConnection, prefix: bullPrefix(api.config.REDIS_PREFIX) });

    let kills = 0;
    for (let round = 0; round < 3; round++) {
      worker = startWorker();
      const before = await stored();
      // Kill while the worker holds jobs and has made progress since it started.
      await eventually(async () => {
        const active = await queue.getActiveCount();
        const now = await stored();
        return active > 0 && now > before && now < total ? true : undefined;
      }, 60_000, `round ${round}: worker busy mid-stream`);
      await kill(worker);
      kills++;
    }
    expect(kills).toBe(3);
    expect(await stored()).toBeLessThan(total);

    worker = startWorker();
    await eventually(async () => ((await stored()) === total ? true : undefined), 90_000, 'all events stored');
    await eventually(async () => ((await queue.getActiveCount()) + (await queue.getWaitingCount()) === 0 ? true : undefined), 30_000, 'queue drained');

    const [final] = await api.storage.query<{ rows: string; ids: string }>(
      "SELECT count() AS rows, uniqExact(id) AS ids FROM events FINAL WHERE startsWith(id, 'kill-')");
    expect({ rows: Number(final!.rows), ids: Number(final!.ids) }).toEqual({ rows: total, ids: total });
    expect(await queue.getFailedCount()).toBe(0);
    await queue.close();
    queueConnection.disconnect();
  });
});
