import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
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
  const port = options.port ?? (await freePort());
  const child = spawn(options.bin ?? 'redis-server', [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes',
    '--logfile', 'redis.log',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });

  const url = `redis://127.0.0.1:${port}`;
  await waitUntilReady(url, child);
  return { url, stop: () => stopChild(child) };
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
