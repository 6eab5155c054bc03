import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { migrate } from '../src/storage/migrations.js';
import type { Storage } from '../src/storage/port.js';
import { planVersionsEndingIn, rowsPerCompany } from '../src/storage/tables/events.js';
import { runStat, STATS, statsContext } from '../src/stats/index.js';
import { localCluster, runnableHere } from './support/local-cluster.js';

/*
 * Two shards, both on this node (a file of its own: chdb takes one configuration per process). A Distributed table
 * over them reads each row once per shard, so the figures below are doubled; what this shows is which of the code's
 * queries ClickHouse runs at all across shards. A subquery that reads a Distributed table inside IN on another is
 * refused on a cluster of two shards or more (code 288, distributed_product_mode = 'deny') and runs on one: the
 * one-shard cluster of storage.cluster.test.ts cannot tell. GLOBAL IN runs it once and sends its set to every shard.
 */

const CLUSTER = 'qj2';
const cluster = localCluster(CLUSTER, 2);
const plain = createEmbeddedStorage(cluster.dataDir, 'sharded');
// The real migrations, with only what chdb cannot execute taken out (as in storage.cluster.test.ts).
const runnable = runnableHere(CLUSTER);
const storage: Storage = { ...plain, cluster: { name: CLUSTER, database: 'sharded' }, command: (sql, params) => plain.command(runnable(sql), params) };

beforeAll(async () => {
  await plain.command('CREATE DATABASE IF NOT EXISTS sharded');
  await migrate(storage);
});

afterAll(async () => {
  await plain.close();
  cluster.close();
});

describe('a cluster of two shards', () => {
  it('has two', async () => {
    const shards = await storage.query<{ n: number }>(`SELECT count() AS n FROM system.clusters WHERE cluster = '${CLUSTER}'`);
    expect(Number(shards[0]!.n)).toBe(2);
  });

  it('refuses a Distributed subquery inside plain IN, and runs it inside GLOBAL IN', async () => {
    const inner = "SELECT id FROM events WHERE type = 'plan'";
    await expect(storage.query(`SELECT count() FROM events WHERE id IN (${inner})`)).rejects.toThrow(/Double-distributed IN/);
    await expect(storage.query(`SELECT count() FROM events WHERE id GLOBAL IN (${inner})`)).resolves.toHaveLength(1);
  });

  it('runs the plan versions ending in a span, and a backtest\'s planning query', async () => {
    const at = '2026-03-02 02:00:00.000';
    const plan = (id: string, planId: string, company: string, windowEnd: string) => ({
      id, type: 'plan', enterprise_id: company, region: '370602', plan_id: planId, window_start: '2026-03-01', window_end: windowEnd,
      occurred_at: at, received_at: at, payload: '{}',
    });
    // A plan filed, then moved: its first version ends in March, its second in April.
    await storage.insert('events', [plan('p-1', 'p-1', 'c-1', '2026-03-20'), plan('p-1b', 'p-1', 'c-1', '2026-04-10'), plan('p-2', 'p-2', 'c-2', '2026-05-01')]);
    const versions = await planVersionsEndingIn(storage, { region: '3706', from: '2026-03-01', to: '2026-03-31' });
    expect([...new Set(versions.map((v) => v.id))].sort()).toEqual(['p-1', 'p-1b']);
    const spans = new Map([[null, { from: Date.parse('2026-03-01T00:00:00Z'), to: Date.parse('2026-03-31T00:00:00Z') }]]);
    expect((await rowsPerCompany(storage, { spans, regions: ['3706'] })).map((r) => r.enterprise_id)).toEqual(['c-1', 'c-2']);
  });

  it('runs every statistic of the justice bureau\'s view', async () => {
    const at = '2026-03-02 02:00:00.000';
    await storage.insert('agencies', [{ agency_id: '370602-SCJG', name: '芝罘区市场监管局', region: '370602', kind: 'market', updated_at: at }]);
    await storage.insert('events', [{
      id: 'i-1', type: 'inspection', enterprise_id: 'c-1', region: '370602', agency_id: '370602-SCJG', onsite: true,
      started_at: at, occurred_at: at, received_at: at, payload: '{}',
    }]);
    const params = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), region: '', agency: '' };
    const context = statsContext({ rules: [], policy: null });
    for (const stat of STATS) await expect(runStat(storage, stat, context, params), stat.name).resolves.toBeInstanceOf(Array);
    const [byAgency] = await runStat(storage, STATS.find((s) => s.name === 'inspections-by-day-agency')!, context, params);
    expect(byAgency).toMatchObject({ agency: '芝罘区市场监管局' });
  });
});
