import { mkdirSync } from 'node:fs';
import { Session, drainPending } from 'chdb';
import { compactRows, COMPACT_FORMAT } from './compact-rows.js';
import { jsonLine, type Params, type Row, type Storage } from './port.js';

/**
 * The ClickHouse engine inside this process (chdb). One data directory per
 * process: the engine is a process singleton, so embedded mode runs API and
 * workers in one process.
 */
export function createEmbeddedStorage(dataDir: string, database: string, options: { backupsPath?: string } = {}): Storage {
  mkdirSync(dataDir, { recursive: true });
  // BACKUP and RESTORE read and write files only under this path (the engine's `backups.allowed_path`).
  const session = new Session(dataDir, options.backupsPath ? { connectionArgs: [`--backups.allowed_path=${options.backupsPath}`] } : {});
  let ready: Promise<void> | null = null;
  const useDatabase = () =>
    (ready ??= (async () => {
      if (database === 'default') return;
      await session.queryAsync(`CREATE DATABASE IF NOT EXISTS ${database}`);
      await session.queryAsync(`USE ${database}`);
    })());

  const compact = async (sql: string, params: Params) => {
    await useDatabase();
    // chdb runs parameter binding one query at a time per process; unbound queries run in parallel.
    const result = Object.keys(params).length === 0
      ? await session.queryAsync(sql, { format: COMPACT_FORMAT })
      : await session.queryBindAsync(sql, bindable(params), { format: COMPACT_FORMAT });
    return result.bytes();
  };

  return {
    kind: 'embedded',
    async insert(table, rows) {
      if (rows.length === 0) return;
      await useDatabase();
      const payload = Buffer.from(rows.map(jsonLine).join('\n'));
      await session.insert({ table, values: payload, format: 'JSONEachRow' });
    },
    async query<T = Row>(sql: string, params: Params = {}) {
      return compactRows<T>(await compact(sql, params));
    },
    queryCompact: (sql, params = {}) => compact(sql, params),
    async command(sql, params = {}) {
      await useDatabase();
      await session.queryBindAsync(sql, bindable(params));
    },
    async ping() {
      await session.queryAsync('SELECT 1');
    },
    async releaseMemory() {
      // libchdb's jemalloc keeps freed pages 5 s (dirty_decay_ms:5000). Setting that lower for the whole process
      // slowed the live service's inserts (docs/performance.md, 2026-12-06); a purge is asked for where it pays.
      await session.queryAsync('SYSTEM JEMALLOC PURGE');
    },
    async close() {
      await drainPending();
      session.close();
      await drainPending();
    },
  };
}

/**
 * chdb binds a Date as 'YYYY-MM-DD HH:MM:SS', dropping the milliseconds. Send
 * it as @clickhouse/client does (Unix seconds, '.mmm' when there are
 * milliseconds) so a Date parameter means the same in both adapters.
 */
function bindable(params: Params): Params {
  if (!Object.values(params).some((v) => v instanceof Date)) return params;
  const out: Params = {};
  for (const [name, value] of Object.entries(params)) {
    if (!(value instanceof Date)) out[name] = value;
    else {
      const seconds = String(Math.floor(value.getTime() / 1000)).padStart(10, '0');
      const ms = value.getUTCMilliseconds();
      out[name] = ms === 0 ? seconds : `${seconds}.${String(ms).padStart(3, '0')}`;
    }
  }
  return out;
}
