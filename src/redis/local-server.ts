import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A redis-server of our own on a free loopback port, for when REDIS_URL is
 * unset. AOF is on (every write reaches the file before Redis replies; fsync
 * once a second) and eviction is off, because BullMQ must never lose a key.
 */
export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startLocalRedis(options: { dir: string; bin?: string; port?: number }): Promise<LocalRedis> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  await stopLeftover(join(dir, PIDFILE));
  const port = options.port ?? (await freePort());
  // Own process group: Ctrl-C in the terminal reaches us, and we stop Redis
  // after the workers are done with it, not at the same moment.
  const child = spawn(options.bin ?? 'redis-server', [
    '--pidfile', join(dir, PIDFILE),
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes',
    '--logfile', 'redis.log',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });

  const url = `redis://127.0.0.1:${port}`;
  await waitUntilReady(url, child);
  return { url, stop: () => stopChild(child) };
}

const PIDFILE = 'redis.pid';

/** A redis-server left running on this data directory by a killed process would hold its AOF. */
async function stopLeftover(pidfile: string): Promise<void> {
  if (!existsSync(pidfile)) return;
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  const isRedis = existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server');
  if (!Number.isInteger(pid) || pid <= 0 || !isRedis) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr.trim()}`))));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start redis-server (${err.message}); install it with apt-get install redis-server or set REDIS_URL`))));
  const ready = (async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // AOF loading answers LOADING until the whole file is replayed.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
    throw new Error('redis-server did not become ready in 10 s');
  })();
  await Promise.race([ready, exited, spawnFailed]);
  child.removeAllListeners('exit');
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
