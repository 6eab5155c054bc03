import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { verifyBackup } from './manifest.js';
import { restoreBackup } from './restore.js';

/** `qingjian backup --to DIR` and `qingjian restore --from DIR`: the embedded default's backups. */
export function backupCommand(): Command {
  return new Command('backup')
    .description('copy a running embedded service (ClickHouse and its Redis) into DIR, with a manifest of checksums')
    .requiredOption('--to <dir>', 'a new or empty directory for the backup')
    .addOption(new Option('--url <api-url>', 'base URL of the running API').default(`http://127.0.0.1:${process.env.PORT ?? 8080}`))
    .addOption(new Option('--token <token>', 'an admin token (default: $QINGJIAN_TOKEN, else DATA_DIR/admin-token)').env('QINGJIAN_TOKEN'))
    .action(async (opts: { to: string; url: string; token?: string }) => {
      const to = resolve(opts.to);
      if (existsSync(to) && readdirSync(to).length > 0) throw new Error(`${to} is not empty: back up into a new directory`);
      const res = await fetch(`${opts.url}/v1/backups`, { method: 'POST', headers: { authorization: `Bearer ${opts.token ?? quickStartToken()}` } })
        .catch((err: Error) => { throw new Error(`no Qingjian answers at ${opts.url} (${err.message}): start it, or give --url`); });
      const body = await res.json() as { dir?: string; message?: string };
      if (res.status !== 201 || !body.dir) throw new Error(`the service refused the backup (${res.status}): ${body.message ?? JSON.stringify(body)}`);
      // The service wrote its copy under its own DATA_DIR; check it, then move it where it was asked to go.
      await verifyBackup(body.dir);
      moveDirectory(body.dir, to);
      const manifest = await verifyBackup(to);
      const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
      const queued = Object.values(manifest.queued_jobs).reduce((n, c) => n + c, 0);
      console.log(`backup written to ${to}: ${manifest.files.length} files, ${(bytes / 1048576).toFixed(1)} MiB, ${queued} queued jobs, checksums verified`);
    });
}

export function restoreCommand(): Command {
  return new Command('restore')
    .description('restore a backup into an empty DATA_DIR; then `qingjian start` there')
    .requiredOption('--from <dir>', 'a directory written by `qingjian backup`')
    .action(async (opts: { from: string }) => {
      const config = loadConfig();
      const manifest = await restoreBackup(opts.from, config.DATA_DIR, config.CLICKHOUSE_DATABASE);
      console.log(`restored the backup of ${manifest.created_at} into ${resolve(config.DATA_DIR)}; start the service there to process its ${
        Object.values(manifest.queued_jobs).reduce((n, c) => n + c, 0)} queued jobs`);
    });
}

function quickStartToken(): string {
  const file = join(loadConfig().DATA_DIR, 'admin-token');
  if (!existsSync(file)) throw new Error(`no token: give --token or set QINGJIAN_TOKEN (${file} does not exist)`);
  return readFileSync(file, 'utf8').trim();
}

/** A rename on the same file system; a copy and a removal across two. */
function moveDirectory(from: string, to: string): void {
  if (existsSync(to)) rmSync(to, { recursive: true });
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    cpSync(from, to, { recursive: true });
    rmSync(from, { recursive: true });
  }
}
