/**
 * Process control for the chaos suite: every part of the deployment is a real
 * child process (redis-server, the chdb ClickHouse HTTP shim, one API — or
 * several, `apis` — and N workers) that can be SIGKILLed and started again on
 * the same port and data directory, as a supervisor (systemd, Docker) would
 * restart it. tests/multiprocess.test.ts and bench/scale.ts start it too.
 *
 * A process that dies without being told to is recorded (`unexpectedExits`):
 * "ingest sheds load rather than failing the node" is checked with it. It is
 * then started again, like a supervisor would, so the next faults still run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../src/redis/local-server.js';

export const ROOT = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface UnexpectedExit {
  name: string;
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of the process's log, to say why. */
  logTail: string;
}

interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves once the process serves; polled until the start timeout. */
  ready: () => Promise<boolean>;
  startTimeoutMs?: number;
}

/** One supervised child process. */
export class Managed {
  private child: ChildProcess | null = null;
  private expectingExit = false;
  starts = 0;
  readonly unexpectedExits: UnexpectedExit[] = [];

  constructor(private readonly spec: ProcessSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits until it serves. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = openSync(this.spec.logFile, 'a');
    const child = spawn(this.spec.command, this.spec.args, { cwd: ROOT, env: this.spec.env ?? process.env, stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.expectingExit = false;
    this.starts++;
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expectingExit) return;
      this.unexpectedExits.push({ name: this.name, at: Date.now(), code, signal, logTail: this.logTail() });
    });
    const deadline = Date.now() + (this.spec.startTimeoutMs ?? 60_000);
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited while starting (code ${child.exitCode}, signal ${child.signalCode}):\n${this.logTail()}`);
      if (await this.spec.ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} did not become ready in ${(this.spec.startTimeoutMs ?? 60_000) / 1000} s:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await gone;
  }

  /** Restarts a process that died unexpectedly (a supervisor would); true if it had to. */
  async reviveIfDead(): Promise<boolean> {
    if (this.running || this.child === null) return false;
    await this.start();
    return true;
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export interface ClusterOptions {
  dir: string;
  /** Bearer token the API is started with (QINGJIAN_BOOTSTRAP_TOKEN) and every request sends. */
  token: string;
  /** `always` or `everysec` (what the service's own Redis and docker compose use). */
  appendfsync: 'always' | 'everysec';
  workers: number;
  /** API processes (default 1); each has its own port, all share Redis and ClickHouse. */
  apis?: number;
  /** Extra settings for the API and workers (the README's Configuration table). */
  env: Record<string, string>;
}

export interface Cluster {
  redis: Managed;
  clickhouse: Managed;
  /** The first API process (`apis[0]`). */
  api: Managed;
  apis: Managed[];
  workers: Managed[];
  all(): Managed[];
  redisUrl: string;
  clickhouseUrl: string;
  /** The first API's URL (`apiUrls[0]`). */
  apiUrl: string;
  apiUrls: string[];
  /** Each worker's `GET /metrics` (METRICS_PORT). */
  workerMetricsUrls: string[];
  redisPrefix: string;
  /** Every unexpected exit so far, each reported once. */
  takeUnexpectedExits(): UnexpectedExit[];
  stop(): Promise<void>;
}

/** A fresh Redis connection that fails fast (the probes must not hang while Redis is down). */
export function probeRedis(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1_000 });
  redis.on('error', () => {});
  return redis;
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = probeRedis(url);
  try {
    await redis.connect();
    // During AOF replay Redis answers LOADING, not PONG.
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function httpAnswers(url: string, token: string, okOnly: boolean): Promise<boolean> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return okOnly ? res.ok : true;
  } catch {
    return false;
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const logs = join(options.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const apiCount = options.apis ?? 1;
  const [redisPort, clickhousePort, ...ports] = await Promise.all(
    Array.from({ length: 2 + apiCount + options.workers }, () => freePort()));
  const apiPorts = ports.slice(0, apiCount);
  const metricsPorts = ports.slice(apiCount);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const clickhouseUrl = `http://127.0.0.1:${clickhousePort}`;
  const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  const apiUrl = apiUrls[0]!;
  const redisPrefix = 'qj';

  const redisDir = join(options.dir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const redis = new Managed({
    name: 'redis',
    command: 'redis-server',
    // As src/redis/local-server.ts starts it (AOF, no RDB snapshots, noeviction), with the fsync policy chosen.
    args: [
      '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--appendfsync', options.appendfsync,
      '--save', '', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--logfile', join(logs, 'redis-server.log'),
    ],
    logFile: join(logs, 'redis.log'),
    ready: () => redisAnswers(redisUrl),
  });

  const clickhouse = new Managed({
    name: 'clickhouse',
    command: process.execPath,
    args: ['--import', 'tsx', 'tests/support/clickhouse-http.ts', '--data-dir', join(options.dir, 'clickhouse'), '--port', String(clickhousePort)],
    logFile: join(logs, 'clickhouse.log'),
    ready: async () => (await fetch(`${clickhouseUrl}/ping`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text()).catch(() => '')) === 'Ok.\n',
  });

  const serviceEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    REDIS_URL: redisUrl,
    CLICKHOUSE_URL: clickhouseUrl,
    REDIS_PREFIX: redisPrefix,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RULES_WATCH: 'false',
    QINGJIAN_BOOTSTRAP_TOKEN: options.token,
    // The traffic and the retries after each fault go through one admin token: faults are measured here, not limits.
    RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
    ...extra,
  });

  // The first keeps the name `api` (the chaos report and logs say so); the others are api-2, api-3, …
  const apis = apiPorts.map((port, i) => {
    const name = i === 0 ? 'api' : `api-${i + 1}`;
    return new Managed({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', 'src/cli.ts', 'api'],
      env: serviceEnv({ PORT: String(port), DATA_DIR: join(options.dir, name), METRICS_PORT: '0' }),
      logFile: join(logs, `${name}.log`),
      ready: () => httpAnswers(`${apiUrls[i]}/readyz`, options.token, true),
    });
  });
  const api = apis[0]!;

  // A worker-only process serves GET /metrics once its workers run: that is its readiness.
  const workers = metricsPorts.map((port, i) => new Managed({
    name: `worker-${i + 1}`,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli.ts', 'worker'],
    env: serviceEnv({ DATA_DIR: join(options.dir, `worker-${i + 1}`), METRICS_PORT: String(port) }),
    logFile: join(logs, `worker-${i + 1}.log`),
    ready: () => httpAnswers(`http://127.0.0.1:${port}/metrics`, options.token, false),
  }));

  const all = () => [redis, clickhouse, ...apis, ...workers];
  const reported = new Map<Managed, number>();
  const cluster: Cluster = {
    redis, clickhouse, api, apis, workers, all, redisUrl, clickhouseUrl, apiUrl, apiUrls, redisPrefix,
    workerMetricsUrls: metricsPorts.map((port) => `http://127.0.0.1:${port}/metrics`),
    takeUnexpectedExits() {
      const out: UnexpectedExit[] = [];
      for (const p of all()) {
        out.push(...p.unexpectedExits.slice(reported.get(p) ?? 0));
        reported.set(p, p.unexpectedExits.length);
      }
      return out;
    },
    async stop() {
      // The end of the run: nothing left to protect, so no graceful stops.
      for (const p of [...apis, ...workers, clickhouse, redis]) await p.kill('SIGKILL');
    },
  };

  try {
    await redis.start();
    await clickhouse.start();
    // The first API applies the migrations; the other APIs and the workers start once the tables exist.
    await api.start();
    await Promise.all([...apis.slice(1), ...workers].map((p) => p.start()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
