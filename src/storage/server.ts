import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { wellFormed, type Params, type Row, type Storage } from './port.js';
import { CLUSTER_SETTINGS } from './cluster.js';
import { COMPACT_FORMAT } from './compact-rows.js';

export interface ServerOptions {
  url: string;
  database: string;
  username: string;
  password: string;
  /** A cluster name from the server's remote_servers (CLICKHOUSE_CLUSTER): tables are created ON CLUSTER. */
  cluster?: string;
}

/** A ClickHouse server over HTTP: production, and several processes sharing one store. */
export function createServerStorage(options: ServerOptions): Storage {
  const client = createClient({
    url: options.url,
    database: options.database,
    username: options.username,
    password: options.password,
    request_timeout: 60_000,
    compression: { request: false, response: false },
    clickhouse_settings: options.cluster
      ? { date_time_input_format: 'best_effort', ...CLUSTER_SETTINGS }
      : { date_time_input_format: 'best_effort' },
    // Failures surface as exceptions that our pino logs report; the client's own console logger would say it twice.
    log: { level: ClickHouseLogLevel.OFF },
  });

  return {
    kind: 'server',
    ...(options.cluster ? { cluster: { name: options.cluster, database: options.database } } : {}),
    async insert(table, rows) {
      if (rows.length === 0) return;
      await client.insert({ table, values: rows.map((r) => wellFormed(r) as Row), format: 'JSONEachRow' });
    },
    async query<T = Row>(sql: string, params: Params = {}) {
      const result = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return result.json<T>();
    },
    async queryCompact(sql, params = {}) {
      const result = await client.query({ query: sql, query_params: params, format: COMPACT_FORMAT });
      return Buffer.from(await result.text());
    },
    async command(sql, params = {}) {
      await client.command({ query: sql, query_params: params });
    },
    async ping() {
      const result = await client.ping();
      if (!result.success) throw result.error;
    },
    async releaseMemory() {
      // The server's allocator is the server's business.
    },
    async close() {
      await client.close();
    },
  };
}
