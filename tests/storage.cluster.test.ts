import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { CLUSTER_SETTINGS, SHARDING_KEYS, renderForCluster, renderStatements } from '../src/storage/cluster.js';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { MIGRATIONS, ledgerStatements, migrate, pendingMigrations } from '../src/storage/migrations.js';
import type { ClusterTarget, Storage } from '../src/storage/port.js';
import { createServerStorage } from '../src/storage/server.js';
import { rowsPerCompany } from '../src/storage/tables/events.js';
import { readTimeline } from '../src/timeline/store.js';
import { localCluster, runnableHere } from './support/local-cluster.js';

/*
 * CLICKHOUSE_CLUSTER against the real engine. No ClickHouse cluster runs on this machine, and chdb cannot be
 * one: it runs no distributed-DDL worker ("Replicated DDL queries are disabled"), so ON CLUSTER cannot execute,
 * and its Keeper here is ClickHouse's in-memory `testkeeper`, with which replicated tables are created but stay
 * read-only. What it can do, and what this file uses, is ClickHouse 26's parser (formatQuery) and a server
 * configuration (--config-file): remote_servers with a one-shard cluster on this node, macros, testkeeper. So:
 * - every rendered statement parses, ON CLUSTER clause and all;
 * - the replicated local tables are created by the engine from the rendered engine clause (ON CLUSTER taken
 *   out, the UUID given explicitly as the ON CLUSTER initiator would), with the Keeper path and replica name
 *   from the server's defaults and macros, and their Distributed tables have identical columns;
 * - the same migrations run through the real migrate() with ON CLUSTER and the Replicated prefix taken out
 *   (plain ReplacingMergeTree shards, which chdb can write): ALTERs, the ledger, concurrent migrations,
 *   and the code's own queries (FINAL, LIMIT 1 BY) reading and writing through the Distributed tables.
 * What needs a real multi-node cluster (DDL reaching every host, replication, rows on two shards) is not
 * proven here; see docs/scaling.md.
 */

const CLUSTER = 'qj';
// The engine of this process, with the cluster configuration: chdb keeps one connection per data directory,
// so the Storage adapters opened below on the same directory share it (and its configuration).
const cluster = localCluster(CLUSTER, 1);
const { dataDir } = cluster;
const engine = createEmbeddedStorage(dataDir, 'default');
const opened: Storage[] = [engine];
// The connection is shared, and so is its current database: each adapter switches it (USE) on its first call.
// The tests below run in order, and each opens its own adapter before using a database.
const open = (database: string) => {
  const storage = createEmbeddedStorage(dataDir, database);
  opened.push(storage);
  return storage;
};

afterAll(async () => {
  for (const s of opened) await s.close();
  cluster.close();
});

const target = (database: string): ClusterTarget => ({ name: CLUSTER, database });
const ON_CLUSTER = ` ON CLUSTER \`${CLUSTER}\``;
const withoutOnCluster = (sql: string) => sql.split(ON_CLUSTER).join('');
const runnable = runnableHere(CLUSTER);

const allSingleNode = () => [...MIGRATIONS.flatMap((m) => m.statements), ...ledgerStatements()];
const createdTables = () => allSingleNode().flatMap((s) => /CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1] ?? []);

interface Column { name: string; type: string; default_kind: string; default_expression: string; compression_codec: string }
const columnsOf = (storage: Storage, table: string) => storage.query<Column>(
  `SELECT name, type, default_kind, default_expression, compression_codec FROM system.columns
   WHERE database = currentDatabase() AND table = {table:String} ORDER BY position`, { table });

describe('configuration', () => {
  it('refuses CLICKHOUSE_CLUSTER without CLICKHOUSE_URL, naming the field', () => {
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'qingjian' })).toThrow(/CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL/);
  });

  it('takes a cluster with a server, and an unset or empty one means one node', () => {
    const url = 'http://ch-1:8123';
    expect(loadConfig({ CLICKHOUSE_URL: url, CLICKHOUSE_CLUSTER: 'qingjian-prod.2' }).CLICKHOUSE_CLUSTER).toBe('qingjian-prod.2');
    expect(loadConfig({ CLICKHOUSE_URL: url }).CLICKHOUSE_CLUSTER).toBeUndefined();
    expect(loadConfig({ CLICKHOUSE_CLUSTER: '' }).CLICKHOUSE_CLUSTER).toBeUndefined();
    expect(() => loadConfig({ CLICKHOUSE_URL: url, CLICKHOUSE_CLUSTER: "qj' --" })).toThrow(/CLICKHOUSE_CLUSTER: must be a cluster name/);
    expect(() => renderForCluster(MIGRATIONS[0]!.statements[0]!, { name: 'a`b', database: 'qingjian' })).toThrow(/cluster name/);
  });
});

describe('single node: exactly the statements as written', () => {
  it('renders every migration and the ledger unchanged without a cluster', () => {
    for (const m of MIGRATIONS) expect(renderStatements(m.statements, undefined)).toEqual(m.statements);
    expect(ledgerStatements()).toHaveLength(1);
    expect(ledgerStatements()[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations \(/);
  });

  it('the server adapter sends the cluster settings only in cluster mode', async () => {
    // A loopback HTTP endpoint that records what @clickhouse/client asks for (its URL carries the settings).
    const seen: URL[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(new URL(req.url ?? '/', 'http://x'));
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(''));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const single = createServerStorage({ url, database: 'qingjian', username: 'default', password: '' });
      const clustered = createServerStorage({ url, database: 'qingjian', username: 'default', password: '', cluster: CLUSTER });
      expect(single.cluster).toBeUndefined();
      expect(clustered.cluster).toEqual({ name: CLUSTER, database: 'qingjian' });
      await single.command('SELECT 1');
      await clustered.command('SELECT 1');
      await Promise.all([single.close(), clustered.close()]);
      const [plain, cluster] = seen;
      expect(plain!.searchParams.get('date_time_input_format')).toBe('best_effort');
      for (const name of Object.keys(CLUSTER_SETTINGS)) expect(plain!.searchParams.has(name)).toBe(false);
      for (const [name, value] of Object.entries(CLUSTER_SETTINGS)) expect(cluster!.searchParams.get(name)).toBe(String(value));
    } finally {
      server.close();
    }
  });
});

describe('rendering for a cluster, checked by ClickHouse 26', () => {
  const cluster = target('qingjian');
  const rendered = () => allSingleNode().map((s) => ({ source: s, out: renderForCluster(s, cluster) }));

  it('every rendered statement of every migration and of the ledger parses', async () => {
    const parse = async (sql: string) =>
      (await engine.query<{ f: string }>('SELECT formatQuery({sql:String}) AS f', { sql }))[0]!.f;
    // The check means something: the parser refuses a broken statement.
    await expect(parse('CREATE TABLE x ON CLUSTER (a String) ENGINE = Distributed')).rejects.toThrow(/Syntax error/);
    let count = 0;
    for (const { out } of rendered()) {
      for (const sql of out) {
        const formatted = await parse(sql);
        expect(formatted, sql).toContain(`ON CLUSTER ${CLUSTER}`);
        count += 1;
      }
    }
    // Storage settings go to the local tables only (a Distributed table has no parts); everything else to both.
    const settingsOnly = allSingleNode().filter((sql) => /MODIFY SETTING/.test(sql)).length;
    expect(settingsOnly).toBeGreaterThan(0);
    expect(count).toBe(2 * allSingleNode().length - settingsOnly);
  });

  it('each table becomes a replicated x_local and a Distributed x over it, sharded by columns of its ORDER BY', async () => {
    const single = open('single_node');
    await single.command('CREATE DATABASE IF NOT EXISTS single_node');
    await migrate(single);
    expect(Object.keys(SHARDING_KEYS).sort()).toEqual(createdTables().sort());
    for (const { source, out } of rendered()) {
      const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(source)?.[1];
      if (!table) continue;
      const [local, distributed] = out;
      expect(local).toMatch(new RegExp(`^\\s*CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER`));
      expect(local).toMatch(/ENGINE = Replicated(Replacing)?MergeTree\b/);
      // No Keeper path or replica name: the server's default_replica_path / default_replica_name apply.
      expect(local).not.toMatch(/MergeTree\('/);
      const key = SHARDING_KEYS[table]!;
      expect(distributed).toContain(`AS qingjian.${table}_local`);
      expect(distributed).toContain(`ENGINE = Distributed('${CLUSTER}', 'qingjian', '${table}_local', cityHash64(${key.join(', ')}))`);
      const [row] = await single.query<{ sorting_key: string }>(
        'SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = {table:String}', { table });
      const sortingColumns = row!.sorting_key.split(',').map((c) => c.trim());
      for (const column of key) expect(sortingColumns, `${table}: ${column}`).toContain(column);
    }
  });

  it('ALTERs go to the local and the Distributed table; what cannot be rendered is refused', () => {
    const alter = MIGRATIONS.find((m) => m.version === 4)!.statements[0]!;
    const [local, distributed] = renderForCluster(alter, cluster);
    expect(local).toMatch(/^ALTER TABLE alerts_local ON CLUSTER `qj`\s+ADD COLUMN IF NOT EXISTS silenced_by/);
    expect(distributed).toMatch(/^ALTER TABLE alerts ON CLUSTER `qj`\s+ADD COLUMN IF NOT EXISTS silenced_by/);
    // Every clause of a multi-column ALTER is carried to both tables.
    const [eventsLocal, eventsDistributed] = renderForCluster(MIGRATIONS.find((m) => m.version === 8)!.statements[0]!, cluster);
    for (const sql of [eventsLocal, eventsDistributed]) {
      expect(sql!.match(/ADD COLUMN IF NOT EXISTS \w+/g)).toEqual(
        ['purpose', 'national_basis', 'reviewed_by', 'filing_kind', 'filed_with', 'approved_by'].map((c) => `ADD COLUMN IF NOT EXISTS ${c}`));
    }
    expect(eventsLocal).toMatch(/^ALTER TABLE events_local ON CLUSTER `qj`/);
    expect(eventsDistributed).toMatch(/^ALTER TABLE events ON CLUSTER `qj`/);
    // A storage setting: only the local table stores parts.
    const compression = MIGRATIONS.find((m) => m.version === 15)!.statements.find((sql) => sql.startsWith('ALTER TABLE events '))!;
    expect(renderForCluster(compression, cluster)).toEqual([
      'ALTER TABLE events_local ON CLUSTER `qj`\n        MODIFY SETTING max_compress_block_size = 131072']);
    expect(() => renderForCluster('ALTER TABLE alerts DELETE WHERE 1', cluster)).toThrow(/column changes or storage settings only/);
    expect(() => renderForCluster('ALTER TABLE events\n ADD INDEX i id TYPE minmax', cluster)).toThrow(/column changes or storage settings only/);
    expect(() => renderForCluster('CREATE TABLE IF NOT EXISTS unknown_t (a String) ENGINE = MergeTree ORDER BY a', cluster))
      .toThrow(/no sharding key/);
    expect(() => renderForCluster('OPTIMIZE TABLE events FINAL', cluster)).toThrow(/cannot render/);
  });

  it('the engine accepts the cluster settings the server adapter sends', async () => {
    const settings = Object.entries(CLUSTER_SETTINGS)
      .map(([name, value]) => `${name} = ${typeof value === 'string' ? `'${value}'` : value}`).join(', ');
    const [row] = await engine.query<Record<string, unknown>>(
      `SELECT ${Object.keys(CLUSTER_SETTINGS).map((n) => `toString(getSetting('${n}')) AS ${n}`).join(', ')} SETTINGS ${settings}`);
    // Boolean settings read back as true/false.
    expect(row).toEqual(Object.fromEntries(Object.entries(CLUSTER_SETTINGS)
      .map(([n, v]) => [n, typeof v === 'number' ? String(v === 1) : v])));
    // And each differs from ClickHouse's default, so sending it changes something.
    const [defaults] = await engine.query<Record<string, unknown>>(
      `SELECT ${Object.keys(CLUSTER_SETTINGS).map((n) => `toString(getSetting('${n}')) AS ${n}`).join(', ')}`);
    for (const n of Object.keys(CLUSTER_SETTINGS)) expect(defaults![n], n).not.toBe(row![n]);
  });
});

describe('on this node as a one-shard cluster (testkeeper)', () => {
  it('creates the replicated tables with the default Keeper path and macros, with Distributed twins of identical columns', async () => {
    const storage = open('replicated');
    await storage.command('CREATE DATABASE IF NOT EXISTS replicated');
    const cluster = target('replicated');
    const created: string[] = [];
    try {
      for (const source of allSingleNode().filter((s) => s.includes('CREATE TABLE'))) {
        const [local, distributed] = renderForCluster(source, cluster);
        const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(source)![1]!;
        // What the ON CLUSTER initiator does: one UUID for the table on every host ({uuid} in the default path).
        const uuid = randomUUID();
        await storage.command(withoutOnCluster(local!).replace(`${table}_local (`, `${table}_local UUID '${uuid}' (`));
        created.push(`${table}_local`);
        await storage.command(withoutOnCluster(distributed!));
        created.push(table);
        const [replica] = await storage.query<{ zookeeper_path: string; replica_name: string; engine: string }>(
          `SELECT zookeeper_path, replica_name, engine FROM system.replicas
           WHERE database = currentDatabase() AND table = {t:String}`, { t: `${table}_local` });
        expect(replica).toMatchObject({ zookeeper_path: `/clickhouse/tables/${uuid}/01`, replica_name: 'r1' });
        expect(replica!.engine).toMatch(/^Replicated(Replacing)?MergeTree$/);
        const local_ = await columnsOf(storage, `${table}_local`);
        expect(local_.length).toBeGreaterThan(2);
        expect(await columnsOf(storage, table), table).toEqual(local_);
      }
    } finally {
      // Dropped at once so that closing the engine does not wait on read-only replicas.
      for (const t of created.reverse()) await storage.command(`DROP TABLE IF EXISTS ${t} SYNC`);
    }
  });

  describe('migrate() and the code, through the Distributed tables', () => {
    let storage: Storage;
    beforeAll(async () => {
      const plain = open('sharded');
      await plain.command('CREATE DATABASE IF NOT EXISTS sharded');
      // The real engine; only what chdb cannot execute is taken out of each rendered statement (see above).
      storage = { ...plain, cluster: target('sharded'), command: (sql, params) => plain.command(runnable(sql), params) };
    });

    it('two processes migrating at once do no harm, and the ledger records every migration once', async () => {
      const [a, b] = await Promise.all([migrate(storage), migrate(storage)]);
      expect([...a, ...b].sort((x, y) => x - y).filter((v, i, all) => all.indexOf(v) === i)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(storage)).toEqual([]);
      expect(await pendingMigrations(storage)).toEqual([]);
      const tables = await storage.query<{ name: string; engine: string }>(
        "SELECT name, engine FROM system.tables WHERE database = 'sharded' ORDER BY name");
      for (const t of [...createdTables()]) {
        expect(tables.find((r) => r.name === t)?.engine, t).toBe('Distributed');
        expect(tables.find((r) => r.name === `${t}_local`)?.engine, `${t}_local`).toMatch(/MergeTree$/);
        expect(await columnsOf(storage, t), t).toEqual(await columnsOf(storage, `${t}_local`));
      }
      // The ALTERs of migrations 4 and 8 reached both tables (x and x_local have equal columns, checked above).
      expect((await columnsOf(storage, 'alerts')).map((c) => c.name)).toContain('silenced_by');
      expect((await columnsOf(storage, 'events')).map((c) => c.name)).toEqual(expect.arrayContaining(
        ['purpose', 'national_basis', 'reviewed_by', 'filing_kind', 'filed_with', 'approved_by']));
      expect((await columnsOf(storage, 'enterprises')).map((c) => c.name)).toEqual(expect.arrayContaining(['exempt', 'whitelisted']));
      const ledger = await storage.query<{ version: number }>('SELECT version FROM schema_migrations_local FINAL ORDER BY version');
      expect(ledger.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    });

    it('the code reads and writes x unchanged: a retried insert folds under FINAL, LIMIT 1 BY, defaults', async () => {
      const row = (id: string, company: string, at: string, payload: object) => ({
        id, type: 'checkin', enterprise_id: company, occurred_at: at, received_at: at, payload: JSON.stringify(payload),
      });
      const a = row('e-1', '91350100M000100Y43', '2026-11-20 01:30:00.000', { id: 'e-1', n: 1 });
      const b = row('e-2', '91350100M000100Y43', '2026-11-20 02:30:00.000', { id: 'e-2', n: 2 });
      const plan = row('p-1', '91350100M000200Y43', '2026-11-20 03:00:00.000', { id: 'p-1' });
      await storage.insert('events', [a, b, plan, { ...plan, enterprise_id: '91350100M000300Y43' }]);
      await storage.insert('events', [a]); // a retried batch
      const count = async (sql: string) => Number((await storage.query<{ n: number }>(sql))[0]!.n);
      expect(await count('SELECT count() AS n FROM events_local')).toBeGreaterThanOrEqual(4); // 5 until a merge folds them
      expect(await count('SELECT count() AS n FROM events FINAL')).toBe(4);
      const page = await readTimeline(storage, {
        enterpriseId: '91350100M000100Y43', from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), limit: 10,
      });
      expect(page.items.map((i) => i.id)).toEqual(['e-1', 'e-2']);
      const evidence = await storage.query<{ id: string }>(
        'SELECT id, payload FROM events FINAL WHERE id IN {ids:Array(String)} LIMIT 1 BY id', { ids: ['p-1', 'e-1'] });
      expect(evidence.map((r) => r.id).sort()).toEqual(['e-1', 'p-1']);
      const [stored] = await storage.query<{ stored_at: string }>("SELECT stored_at FROM events WHERE id = 'e-2'");
      expect(stored!.stored_at).not.toMatch(/^1970/);
    });

    it("a backtest's plan reads across the Distributed tables: the companies of some regions, those a count reaches", async () => {
      const at = (day: number) => `2025-03-${String(day).padStart(2, '0')} 02:00:00.000`;
      const visit = (id: string, company: string, region: string, day: number) => ({
        id, type: 'checkin', enterprise_id: company, region, agency_id: `${id}-agency`, occurred_at: at(day), received_at: at(day), payload: '{}',
      });
      // One company placed by its reference data (in 德州, whatever its events say), one by its events alone.
      await storage.insert('enterprises', [{ enterprise_id: 'c-known', name: 'k', region: '371402', updated_at: at(1) }]);
      await storage.insert('events', [
        ...[1, 3, 5].map((day) => visit(`k${day}`, 'c-known', '350302', day)),
        visit('u1', 'c-unknown', '350302', 2),
      ]);
      const spans = new Map([[null, { from: Date.parse('2025-03-01T00:00:00Z'), to: Date.parse('2025-03-31T00:00:00Z') }]]);
      expect(await rowsPerCompany(storage, { spans, regions: ['3714'] })).toEqual([{ enterprise_id: 'c-known', n: 3 }]);
      expect(await rowsPerCompany(storage, { spans, regions: ['3503'] })).toEqual([{ enterprise_id: 'c-unknown', n: 1 }]);
      const reach = { types: ['checkin'], from: spans.get(null)!.from, to: spans.get(null)!.to, windowDays: 15, atLeast: 3, perAgencyMs: 7_200_000 };
      expect(await rowsPerCompany(storage, { spans, regions: null, reach })).toEqual([{ enterprise_id: 'c-known', n: 3 }]);
      expect(await rowsPerCompany(storage, { spans, regions: ['3503'], reach })).toEqual([]);
    });

    it('refuses a database that was migrated without CLICKHOUSE_CLUSTER', async () => {
      const single = open('single_node');
      await migrate(single);
      const wrong: Storage = { ...single, cluster: target('single_node') };
      await expect(migrate(wrong)).rejects.toThrow(/migrated without CLICKHOUSE_CLUSTER .*ReplacingMergeTree/);
    });
  });
});
