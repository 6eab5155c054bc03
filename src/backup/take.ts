import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Storage } from '../storage/index.js';
import { sqlString, writeManifest, type Manifest } from './manifest.js';

/**
 * A consistent copy of the embedded default while it runs: Redis first, then ClickHouse.
 *
 * In that order nothing acknowledged is missing: an event acknowledged before the Redis copy is either still in
 * its queue there, or was already stored, and so is in the ClickHouse copy taken after it. Events stored between
 * the two copies are in both; after a restore the queue stores them again, which the tables fold (every write is
 * idempotent) and evaluation decides to the same alerts.
 */
export interface BackupSources {
  storage: Storage;
  database: string;
  /** The service's own redis-server (its AOF files are read from its `dir`). */
  redis: Redis;
  /** Counted into the manifest: the backlog a restore will process. */
  queues: readonly Queue[];
  /** Where the ClickHouse engine may write backups (its `backups.allowed_path`). */
  root: string;
  /** Copied too, so a restored quick start signs in with the same token. */
  adminTokenFile: string | null;
  version: string;
  migrations: () => Promise<number[]>;
}

export interface TakenBackup {
  id: string;
  dir: string;
  manifest: Manifest;
}

export async function takeBackup(sources: BackupSources, now = new Date()): Promise<TakenBackup> {
  const id = now.toISOString().replace(/[:.]/g, '-');
  const dir = join(sources.root, id);
  mkdirSync(dir, { recursive: true });

  const queued_jobs: Record<string, number> = {};
  for (const queue of sources.queues) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    queued_jobs[queue.name] = Object.values(counts).reduce((n, c) => n + c, 0);
  }
  await rewriteAppendOnlyFile(sources.redis);
  await copyAppendOnlyFiles(sources.redis, join(dir, 'redis'));

  // The engine writes the copy itself, table by table, parts hard-linked and checksummed (ClickHouse's BACKUP).
  await sources.storage.command(`BACKUP DATABASE ${sources.database} TO File(${sqlString(join(dir, 'clickhouse'))})`);

  if (sources.adminTokenFile && existsSync(sources.adminTokenFile)) copyFileSync(sources.adminTokenFile, join(dir, 'admin-token'));
  const manifest = await writeManifest(dir, {
    created_at: now.toISOString(), qingjian_version: sources.version, migrations: await sources.migrations(), queued_jobs,
  });
  return { id, dir, manifest };
}

/** A fresh base file holding everything so far (BGREWRITEAOF), so the copy is one base and a short increment. */
async function rewriteAppendOnlyFile(redis: Redis): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await redis.bgrewriteaof();
      break;
    } catch (err) {
      if (!/in progress/i.test((err as Error).message) || Date.now() - started > 60_000) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (;;) {
    const info = await redis.info('persistence');
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
    if (field('aof_rewrite_in_progress') === '0' && field('aof_rewrite_scheduled') === '0') {
      if (field('aof_last_bgrewrite_status') !== 'ok') throw new Error(`Redis could not rewrite its append-only file (${field('aof_last_bgrewrite_status')})`);
      return;
    }
    if (Date.now() - started > 300_000) throw new Error('Redis took more than 5 minutes to rewrite its append-only file');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The files Redis 7's manifest names, then the manifest. A command appended while the increment is copied may be
 * cut short at its end; Redis loads such a file up to its last whole command (`aof-load-truncated`, on by default).
 */
async function copyAppendOnlyFiles(redis: Redis, to: string): Promise<void> {
  const [, dir] = (await redis.config('GET', 'dir')) as [string, string];
  const [, dirname] = (await redis.config('GET', 'appenddirname')) as [string, string];
  const [, filename] = (await redis.config('GET', 'appendfilename')) as [string, string];
  const from = join(dir, dirname);
  const manifestFile = `${filename}.manifest`;
  const manifest = readFileSync(join(from, manifestFile), 'utf8');
  const target = join(to, dirname);
  mkdirSync(target, { recursive: true });
  for (const [, name] of manifest.matchAll(/^file (\S+)/gm)) copyFileSync(join(from, name!), join(target, name!));
  copyFileSync(join(from, manifestFile), join(target, manifestFile));
}
