/**
 * The service under test for the Node twin, as the README's quick start runs
 * it: `qingjian start` (API + workers, embedded ClickHouse) in a process of
 * its own, with a redis-server the twin starts (so Redis outlives a service
 * restart and its memory can be read). A sampler records the service's RSS and
 * CPU (/proc), Redis memory and the queues once a second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openQueue } from '../../src/queues/index.js';
import { freePort } from '../../src/redis/local-server.js';
import { Managed } from '../../chaos/cluster.js';

const REDIS_PREFIX = 'qj';
const CLK_TCK = 100;

export interface ServiceProcess {
  url: string;
  pid: number;
  /** SIGTERM (graceful: in-flight work finishes, the embedded engine closes), then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `qingjian <command>` (supervised as the chaos suite does) and waits until /readyz answers 200. */
export async function startService(options: {
  command: 'start' | 'api'; dataDir: string; redisUrl: string; token: string; logFile: string; env?: Record<string, string>; port?: number;
}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const service = new Managed({
    name: `qingjian ${options.command}`,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli.ts', options.command],
    env: {
      ...process.env,
      PORT: String(port), HOST: '127.0.0.1', DATA_DIR: options.dataDir, REDIS_URL: options.redisUrl, REDIS_PREFIX,
      QINGJIAN_BOOTSTRAP_TOKEN: options.token, LOG_LEVEL: 'warn', RULES_WATCH: 'false', METRICS_PORT: '0',
      // One token per role drives the whole run: limits are not what is measured.
      RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_INGEST_PER_MINUTE: '0', RATE_LIMIT_FEED_CONNECTS_PER_MINUTE: '0',
      ...options.env,
    },
    logFile: options.logFile,
    ready: () => fetch(`${url}/readyz`).then((r) => r.ok),
    startTimeoutMs: 120_000,
  });
  await service.start();
  return { url, pid: service.pid!, stop: () => service.kill('SIGTERM') };
}

export interface Sample {
  at: number;
  rssMiB: number;
  /** CPU seconds the service process has used so far. */
  cpuSeconds: number;
  redisMiB: number;
  /** Jobs ready to run or running, per queue: its backlog. */
  queues: Record<string, number>;
  /** Jobs delayed per queue: deadlines, timers and retries that wait on purpose, no backlog. */
  delayed: Record<string, number>;
}

const READY_STATES = ['waiting', 'active', 'prioritized', 'waiting-children'] as const;
const QUEUE_STATES = [...READY_STATES, 'delayed'] as const;

/** Reads the service's /proc entries, Redis INFO and the queues every `everyMs`. */
export function startSampler(pid: () => number, redisUrl: string, everyMs = 1000) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues: Array<[string, Queue]> = [
    ['store', openQueue('store', redis, REDIS_PREFIX)],
    ['evaluate', openQueue('evaluate', redis, REDIS_PREFIX)],
    ['hotline', openQueue('hotline', redis, REDIS_PREFIX)],
    ['escalation', openQueue('escalation', redis, REDIS_PREFIX)],
  ];
  const samples: Sample[] = [];
  let stopped = false;

  async function sample(): Promise<Sample> {
    const ready: Record<string, number> = {};
    const delayed: Record<string, number> = {};
    for (const [name, queue] of queues) {
      const c = await queue.getJobCounts(...QUEUE_STATES);
      ready[name] = READY_STATES.reduce((sum, s) => sum + (c[s] ?? 0), 0);
      delayed[name] = c.delayed ?? 0;
    }
    const info = await redis.info('memory');
    const used = Number(info.match(/used_memory:(\d+)/)?.[1] ?? 0);
    return { at: Date.now(), ...processFigures(pid()), redisMiB: used / 2 ** 20, queues: ready, delayed };
  }

  const loop = (async () => {
    while (!stopped) {
      const next = Date.now() + everyMs;
      samples.push(await sample().catch(() => ({ at: Date.now(), rssMiB: 0, cpuSeconds: 0, redisMiB: 0, queues: {}, delayed: {} })));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();

  return {
    samples,
    sample,
    /**
     * Jobs the pipeline still has to run now: every store job, and evaluate and hotline jobs that are ready or
     * running. Delayed evaluate and hotline jobs are deadlines (SLA timers, deferred decisions) that wait on
     * purpose, like the escalation timers.
     */
    async pending(): Promise<number> {
      let total = 0;
      for (const [name, queue] of queues) {
        if (name === 'escalation') continue;
        const states = name === 'store' ? QUEUE_STATES : READY_STATES;
        const c = await queue.getJobCounts(...states);
        total += states.reduce((sum, s) => sum + (c[s] ?? 0), 0);
      }
      return total;
    },
    async stop() {
      stopped = true;
      await loop;
      for (const [, queue] of queues) await queue.close();
      redis.disconnect();
    },
  };
}

export type Sampler = ReturnType<typeof startSampler>;

export function processFigures(pid: number): { rssMiB: number; cpuSeconds: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    // Fields 14 and 15 (utime, stime) follow the command name in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssMiB: rssKiB / 1024, cpuSeconds: ticks / CLK_TCK };
  } catch {
    return { rssMiB: 0, cpuSeconds: 0 };
  }
}

export const logFileIn = (dir: string, name: string) => join(dir, `${name}.log`);
