import type { Config } from '../config/index.js';
import { createEmbeddedStorage } from './embedded.js';
import { createServerStorage } from './server.js';
import { join, resolve } from 'node:path';
import type { Storage } from './port.js';

export type { Storage, Row, Params } from './port.js';
export { toClickHouseTime, fromClickHouseTime, isClickHouseTime } from './port.js';
export { migrate, MIGRATIONS, missingTables, pendingMigrations } from './migrations.js';
export type { ClusterTarget } from './port.js';

/** Where `qingjian backup` has the running embedded engine write its copies before moving them (`--to`). */
export const backupsDir = (config: Config) => resolve(config.DATA_DIR, 'backups');

/**
 * The server adapter when CLICKHOUSE_URL is set (ON CLUSTER when CLICKHOUSE_CLUSTER is too), otherwise the
 * embedded engine under DATA_DIR (config refuses CLICKHOUSE_CLUSTER without CLICKHOUSE_URL).
 */
export function createStorage(config: Config): Storage {
  if (config.CLICKHOUSE_URL) {
    return createServerStorage({
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      cluster: config.CLICKHOUSE_CLUSTER,
    });
  }
  return createEmbeddedStorage(join(config.DATA_DIR, 'clickhouse'), config.CLICKHOUSE_DATABASE, { backupsPath: backupsDir(config) });
}
