import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/storage/index.js';
import { checkin, creditCode } from './support/fixtures.js';
import { eventually, get, post, startTestService, type TestService } from './support/service.js';

/**
 * A graceful stop and a restart on the same DATA_DIR: migrations are not
 * applied twice, queued events survive in Redis' AOF and drain after the
 * restart, and ids accepted before the restart are still known.
 */
let service: TestService | undefined;
afterAll(() => service?.dispose());

describe('restart on the same data directory', () => {
  it('keeps everything that was acknowledged and applies migrations once', async () => {
    // A slow store (long batch wait, one job at a time) so events are still queued at the stop.
    const env = { STORE_BATCH_WAIT_MS: '400', WORKER_CONCURRENCY: '1' };
    service = await startTestService(env);
    const dataDir = service.dataDir;
    const company = creditCode('350302', 42);
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) => checkin({
        enterprise_id: company,
        occurred_at: new Date(Date.UTC(2026, 9, 1 + (b % 28), 1, i)).toISOString(),
      })));
    for (const batch of batches) expect((await post(`${service.url}/v1/events`, batch)).status).toBe(202);
    const countStored = async (s: TestService) => Number((await s.storage.query<{ n: string }>(
      'SELECT count() AS n FROM events FINAL WHERE enterprise_id = {e:String}', { e: company }))[0]!.n);
    expect(await countStored(service)).toBeLessThan(batches.flat().length);
    await service.stop();

    service = await startTestService(env, { api: true, worker: true }, dataDir);
    const ledger = await service.storage.query<{ n: string }>('SELECT count() AS n FROM schema_migrations');
    expect(Number(ledger[0]!.n)).toBe(MIGRATIONS.length);

    const total = batches.flat().length;
    await eventually(async () => ((await countStored(service!)) === total ? true : undefined), 30_000, 'all acknowledged events stored after restart');

    const retry = await post(`${service.url}/v1/events`, batches[0]);
    expect(retry.body.duplicates).toBe(50);
    expect((await get(`${service.url}/readyz`)).status).toBe(200);
  });
});
