import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createEmbeddedStorage } from '../storage/embedded.js';
import { sqlString, verifyBackup, type Manifest } from './manifest.js';

/**
 * A backup into an empty DATA_DIR, for `qingjian start` there: Redis's append-only files where its own
 * redis-server looks for them, and the ClickHouse database restored by the engine (ClickHouse's RESTORE).
 * Migrations newer than the backup run on start; the queued jobs are processed once.
 */
export async function restoreBackup(from: string, dataDir: string, database: string): Promise<Manifest> {
  const source = resolve(from);
  const manifest = await verifyBackup(source);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`DATA_DIR ${resolve(dataDir)} is not empty: restore into a new directory, then point DATA_DIR at it`);
  }
  mkdirSync(join(dataDir, 'redis'), { recursive: true });
  cpSync(join(source, 'redis'), join(dataDir, 'redis'), { recursive: true });
  if (existsSync(join(source, 'admin-token'))) {
    cpSync(join(source, 'admin-token'), join(dataDir, 'admin-token'));
    chmodSync(join(dataDir, 'admin-token'), 0o600);
  }
  const storage = createEmbeddedStorage(join(dataDir, 'clickhouse'), database, { backupsPath: source });
  try {
    await storage.command(`RESTORE DATABASE ${database} FROM File(${sqlString(join(source, 'clickhouse'))})`);
  } finally {
    await storage.close();
  }
  return manifest;
}
