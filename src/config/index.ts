import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// src/config or dist/config: the shipped rules live at the package root.
const SHIPPED_RULES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules');
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Every setting the service reads from the environment, with its default.
 * The README's "Configuration" table is written from this schema; keep them in step.
 */
const int = (min: number) => z.coerce.number().int().min(min);

const EnvSchema = z.object({
  PORT: int(0).max(65535).default(8080),
  // How far the JS heap may grow past what the last full collection kept before the next (src/heap.ts); 0: V8's own choice.
  HEAP_GROWTH_PERCENT: int(0).max(1000).default(100),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  REDIS_URL: z.string().url().optional(),
  // Optional Redis per role, each falling back to REDIS_URL (src/redis/roles.ts): spread queues, dedup memory and the feed over instances.
  REDIS_QUEUES_URL: z.string().url().optional(),
  REDIS_DEDUP_URL: z.string().url().optional(),
  REDIS_FEED_URL: z.string().url().optional(),
  REDIS_SERVER_BIN: z.string().default('redis-server'),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i).default('qj'),
  CLICKHOUSE_URL: z.string().url().optional(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('default'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  // A cluster from the server's remote_servers: tables are created ON CLUSTER, replicated and sharded
  // (src/storage/cluster.ts). Unset: one server, as before.
  CLICKHOUSE_CLUSTER: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a cluster name from remote_servers (A-Z a-z 0-9 _ . -)').optional(),
  INGEST_MAX_EVENTS: int(1).default(5000),
  INGEST_MAX_BYTES: int(1024).default(5 * 1024 * 1024),
  // A body that has not arrived by then is answered 408 and its connection closed (a trickle must not hold it).
  REQUEST_BODY_TIMEOUT_MS: int(100).default(30_000),
  INGEST_COALESCE_MS: int(0).default(2),
  INGEST_MAX_FUTURE_SKEW_S: int(0).default(300),
  DEDUP_TTL_S: int(60).default(3 * 24 * 3600),
  STORE_BATCH_ROWS: int(1).default(5000),
  STORE_BATCH_WAIT_MS: int(1).default(200),
  WORKER_CONCURRENCY: int(1).default(256),
  WORKER_LOCK_MS: int(1000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(1000).default(30_000),
  RULES_DIR: z.string().default(SHIPPED_RULES),
  RULES_WATCH: bool.default(true),
  EVALUATE_CONCURRENCY: int(1).default(4),
  EVALUATE_CHUNK: int(1).default(500),
  EVALUATE_MEMORY_EVENTS: int(0).default(500_000),
  EVALUATE_MEMORY_ALERTS: int(0).default(100_000),
  PLAN_CHECK_YIELD_MS: int(0).default(30_000),
  PLAN_CHECK_SHARE_PERCENT: int(1).max(100).default(10),
  FEED_RETAIN: int(100).default(100_000),
  FEED_MAX_BUFFER_BYTES: int(1024).default(1024 * 1024),
  FEED_MAX_PAYLOAD_BYTES: int(256).default(16 * 1024),
  FEED_PING_MS: int(100).default(30_000),
  // -- hotline (HOTLINE_*) --
  // Minutes may be fractional (0.05 is 3 s), for tests of the timers.
  HOTLINE_ACCEPT_SLA_MINUTES: z.coerce.number().positive().default(120),
  HOTLINE_RESOLVE_SLA_DAYS: z.coerce.number().positive().default(5),
  HOTLINE_WORKING_HOURS: z.string()
    .regex(/^\d{2}:\d{2}-\d{2}:\d{2}(,\d{2}:\d{2}-\d{2}:\d{2})*$/, 'must be periods HH:MM-HH:MM separated by commas, e.g. 09:00-12:00,13:30-17:30')
    .default('09:00-12:00,13:30-17:30'),
  HOTLINE_ALWAYS_WORKING: bool.default(false),
  HOTLINE_CLAIM_MINUTES: z.coerce.number().positive().default(30),
  // -- access --
  // Also a WebSocket subprotocol in browsers (`bearer.<token>`): token characters only.
  QINGJIAN_BOOTSTRAP_TOKEN: z.string().regex(/^[A-Za-z0-9._~-]{32,256}$/, 'must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ -').optional(),
  METRICS_PUBLIC: bool.default(true),
  RATE_LIMIT_PER_MINUTE: int(0).default(1_200),
  RATE_LIMIT_INGEST_PER_MINUTE: int(0).default(120_000),
  // Feed upgrades a minute per token; an address gets four times as many (an office behind one NAT).
  RATE_LIMIT_FEED_CONNECTS_PER_MINUTE: int(0).default(60),
  // -- metrics --
  METRICS_PORT: int(0).max(65535).default(9464),
  METRICS_SAMPLE_MS: int(100).default(5_000),
  SHUTDOWN_TIMEOUT_MS: int(100).default(20_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: readable lines at a terminal, JSON lines when piped or in a container.
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

export type Config = z.infer<typeof EnvSchema>;

/** The embedded engine is one node in this process: a cluster needs a ClickHouse server to connect to. */
function clusterNeedsServer(config: Config, ctx: z.RefinementCtx): void {
  if (config.CLICKHOUSE_CLUSTER && !config.CLICKHOUSE_URL) {
    ctx.addIssue({ code: 'custom', path: ['CLICKHOUSE_CLUSTER'], message: 'needs CLICKHOUSE_URL (the embedded engine cannot run on a cluster)' });
  }
}

/** Parses the environment; a bad value stops the process with the variable's name. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.superRefine(clusterNeedsServer).safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
