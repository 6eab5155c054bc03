import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { isPretty, type Logger } from './log.js';
import {
  createRateLimiter, createTokenStore, ensureBootstrapToken, jurisdictionOf, routeAccess, tokenRoutes, type Access, type TokenStore,
} from './auth/index.js';
import {
  alertRoutes, createAlertMemory, createAlertStore, createSilenceStore, enterpriseLock, reconcile, silenceRoutes, startEscalationWorker,
  type Alert, type AlertCandidate, type AlertStore,
} from './alerts/index.js';
import { auditRoutes, createAuditLog } from './audit/index.js';
import { createPlanChecker, planRoutes, createMattersReader, startPlanCheckWorker } from './plans/index.js';
import { backupRoutes, type BackupSources } from './backup/index.js';
import { createDelivery, type Delivery } from './delivery/index.js';
import { exportRoutes } from './export/index.js';
import { attachFeed, createJournal, feedRoutes } from './feed/index.js';
import { consoleRoutes } from './console/routes.js';
import { createHttpApp } from './http/app.js';
import { healthRoutes } from './http/health.js';
import {
  createTicketStore, enqueueAlertTickets, enqueueComplaintTickets, hotlineRoutes, hotlineSettings, startHotlineWorker, ticketCategories,
} from './hotline/index.js';
import { createEventAcceptor, createSeenIds, ingestRoutes, type Event, type EventAcceptor } from './ingest/index.js';
import { createMetrics, metricsRoutes, serveMetrics, startSampler, type Metrics } from './metrics/index.js';
import { startEvaluateWorker } from './pipeline/evaluate-worker.js';
import { limitHeapGrowth } from './heap.js';
import { createHistories } from './pipeline/histories.js';
import { warmEvaluation, type WarmReport } from './pipeline/warm.js';
import { startStoreWorker } from './pipeline/store-worker.js';
import { openQueue, QUEUE_KEYS, type QueueWorkerSettings } from './queues/index.js';
import { complaintsGoTo } from './rules/load.js';
import { holidayWarnings } from './rules/holidays.js';
import { createRuleRegistry, type RuleRegistry } from './rules/registry.js';
import { ruleRoutes } from './rules/routes.js';
import { producerConnection, workerConnection } from './redis/connection.js';
import { upgradeKeyLayout } from './redis/key-layout.js';
import { planReviewRoutes } from './plans/review-routes.js';
import { createLocks, type Locks } from './redis/lock.js';
import { startLocalRedis, type LocalRedis } from './redis/local-server.js';
import { openRoleConnections, redactUrl, redisChecks, redisUrls, type RedisUrls, type RoleConnections } from './redis/roles.js';
import { createHomes, createOfficerStore, createReferenceFacts, createReferenceStore, officerRoutes, referenceRoutes, type Homes } from './reference/index.js';
import { statsRoutes } from './stats/routes.js';
import { backupsDir, createStorage, migrate, MIGRATIONS, pendingMigrations, type Storage } from './storage/index.js';
import { progress, type Progress } from './terminal/progress.js';
import { timelineRoutes } from './timeline/index.js';

/**
 * The one place where Qingjian is wired together. `start` runs API and
 * workers in one process; `api` and `worker` run one role each, for scaling
 * out against a shared Redis and ClickHouse server.
 */
export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface Service {
  /** Base URL of the API (when the api role runs). */
  url: string | null;
  /** `METHOD /pattern` of every route the API answers, with the access rule it declared (undefined: none, so refused). */
  routes: Map<string, Access | undefined>;
  /** The bootstrap admin token, when this process made sure of one (the in-process demo uses it). */
  adminToken: string | null;
  /** The file the quick start keeps that token in, when it made it (rather than QINGJIAN_BOOTSTRAP_TOKEN). */
  adminTokenFile: string | null;
  /** The coordination Redis (REDIS_URL or the service's own); `redisUrls` has every role's. */
  redisUrl: string;
  redisUrls: RedisUrls;
  storage: Storage;
  /**
   * The start's warm-up, in the background: the recently active companies read into the evaluating process's memory
   * (src/pipeline/warm.ts). Null without the worker role; settles null if warming failed (evaluations then read what
   * they need).
   */
  warmed: Promise<WarmReport | null> | null;
  stop(): Promise<void>;
}

export async function startService(config: Config, roles: Roles, log: Logger): Promise<Service> {
  limitHeapGrowth(config.HEAP_GROWTH_PERCENT);
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) {
      log.debug({ step: step.name || step.toString().slice(0, 60) }, 'shutdown step');
      await step().catch((err: Error) => log.error({ err: err.message }, 'shutdown step failed'));
    }
  };

  try {
    const redisUrl = config.REDIS_URL ?? (await startOwnRedis(config, log, stops));
    const redis = redisUrls(config, redisUrl);
    await upgradeKeyLayout(redis, config.REDIS_PREFIX, log);
    const storage = createStorage(config);
    stops.push(() => storage.close());
    await waitUntilReachable(storage, log);
    let bar: Progress | undefined;
    const applied = await migrate(storage, MIGRATIONS, (done, pending) => {
      bar ??= progress('迁移 Migrations', pending, isPretty(config.LOG_FORMAT));
      if (done > 0) bar.advance(1);
    });
    bar?.done();
    log.info({ storage: storage.kind, applied }, 'storage ready');

    const rules = await startRules(config, log, stops);
    const metrics = createMetrics({ role: roleName(roles), version: VERSION });
    const warmed = roles.worker ? startWorkers(config, redis, storage, rules, metrics, log, stops) : null;
    const { url, routes, adminToken, adminTokenFile } = roles.api
      ? await startApi(config, redis, storage, rules, metrics, log, stops, roles.worker)
      : { url: null, routes: new Map(), adminToken: null, adminTokenFile: null };
    if (!roles.api && config.METRICS_PORT > 0) await startMetricsServer(config, metrics, log, stops);
    log.info({ url, roles, redis: Object.fromEntries(Object.entries(redis).map(([role, u]) => [role, redactUrl(u)])) }, 'qingjian started');
    return { url, routes, adminToken, adminTokenFile, redisUrl, redisUrls: redis, storage, warmed, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

const roleName = (roles: Roles) => (roles.api && roles.worker ? 'all' : roles.api ? 'api' : 'worker');

// A worker-only process has no API port: it gets one of its own for Prometheus.
async function startMetricsServer(config: Config, metrics: Metrics, log: Logger, stops: Array<() => Promise<unknown>>): Promise<void> {
  const server = await serveMetrics(metrics.registry, config.METRICS_PORT, config.HOST);
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  log.info({ port: config.METRICS_PORT }, 'metrics served at /metrics');
}

// In a compose stack the ClickHouse server may still be starting.
async function waitUntilReachable(storage: Storage, log: Logger, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await storage.ping();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ClickHouse unreachable: ${(err as Error).message}`);
      log.warn({ err: (err as Error).message }, 'waiting for ClickHouse');
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function startOwnRedis(config: Config, log: Logger, stops: Array<() => Promise<unknown>>): Promise<string> {
  const redis: LocalRedis = await startLocalRedis({ dir: join(config.DATA_DIR, 'redis'), bin: config.REDIS_SERVER_BIN });
  stops.push(() => redis.stop());
  log.info({ url: redis.url }, 'started local redis-server');
  return redis.url;
}

// Edits to the rule files apply on save (watch) or on SIGHUP, once they validate and their tests pass.
async function startRules(config: Config, log: Logger, stops: Array<() => Promise<unknown>>): Promise<RuleRegistry> {
  const rules = await createRuleRegistry(config.RULES_DIR, log.child({ role: 'rules' }), { watch: config.RULES_WATCH });
  const onHangup = () => void rules.reload();
  process.on('SIGHUP', onHangup);
  stops.push(async () => {
    process.off('SIGHUP', onHangup);
    rules.close();
  });
  log.info({ dir: config.RULES_DIR, ...rules.status() }, 'rules loaded');
  // Deadlines reach a few weeks ahead: warn while this year's or (from December) next year's holidays are unknown.
  for (const { year, file, message } of holidayWarnings(config.RULES_DIR, Date.now())) log.warn({ year, file }, message);
  return rules;
}

function startWorkers(
  config: Config, redis: RedisUrls, storage: Storage, rules: RuleRegistry, metrics: Metrics, log: Logger, stops: Array<() => Promise<unknown>>,
): Promise<WarmReport | null> {
  // Locks, and the delivery's queues and journal; the workers below open their own queue connections.
  const connections = openRoleConnections(redis, producerConnection, ['coordination', 'queues', 'feed']);
  for (const connection of connections.connections()) connection.on('error', (err) => log.debug({ err: err.message }, 'worker redis error'));
  stops.push(async () => connections.disconnect());
  const locks = createLocks(connections.coordination, config.REDIS_PREFIX);
  const alerts = createAlertStore(storage, locks, createAlertMemory(connections.coordination, config.REDIS_PREFIX, config.EVALUATE_MEMORY_ALERTS));
  const homes = createHomes(connections.coordination, createReferenceStore(storage), config.REDIS_PREFIX);
  const facts = createReferenceFacts(connections.coordination, storage, config.REDIS_PREFIX);
  // Every worker below serves a queue: they connect to the queues Redis.
  const redisUrl = redis.queues;
  const { delivery } = startDelivery(config, redis, connections, storage, alerts, rules, metrics, stops);
  const queues = (role: string): QueueWorkerSettings => ({
    redisUrl, redisPrefix: config.REDIS_PREFIX, lockMs: config.WORKER_LOCK_MS, stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS, metrics,
    log: log.child({ role }),
  });
  // The store worker counts and remembers what it stores; the evaluate worker answers from that memory.
  const histories = createHistories({ storage, redis: connections.coordination, prefix: config.REDIS_PREFIX, maxEvents: config.EVALUATE_MEMORY_EVENTS, metrics });
  const evaluator = startEvaluateWorker({
    ...queues('evaluate-worker'),
    histories,
    rules,
    alerts,
    locks,
    facts,
    concurrency: config.EVALUATE_CONCURRENCY,
    chunk: config.EVALUATE_CHUNK,
    delivery,
  });
  stops.push(() => evaluator.close(config.SHUTDOWN_TIMEOUT_MS));
  const escalator = startEscalationWorker({
    ...queues('escalation-worker'),
    alerts,
    out: delivery.acted,
  });
  stops.push(() => escalator.close(config.SHUTDOWN_TIMEOUT_MS));
  const hotline = startHotlineWorker({
    ...queues('hotline-worker'),
    storage,
    locks,
    homes,
    settings: hotlineSettings(config),
    raiseAlert: (candidate) => raiseSystemAlert(alerts, locks, delivery, candidate),
  });
  stops.push(() => hotline.close(config.SHUTDOWN_TIMEOUT_MS));
  // Checks read companies, their events and agencies from the evaluation's memory, and remember the matters of the
  // plan versions it holds: their plans were just stored, so the companies are being evaluated too, and a check's
  // reads of ClickHouse cost more than the rest of it (bench:rules --timings).
  const checker = createPlanChecker(storage, rules, {
    companies: facts.companies, events: histories.read, agencies: facts.agencies, matters: createMattersReader(storage),
  });
  const plans = startPlanCheckWorker({ ...queues('plan-check-worker'), checker, yieldMs: config.PLAN_CHECK_YIELD_MS, sharePercent: config.PLAN_CHECK_SHARE_PERCENT });
  stops.push(() => plans.close(config.SHUTDOWN_TIMEOUT_MS));
  const store = startStoreWorker({
    ...queues('store-worker'),
    storage,
    histories,
    concurrency: config.WORKER_CONCURRENCY,
    batchRows: config.STORE_BATCH_ROWS,
    batchWaitMs: config.STORE_BATCH_WAIT_MS,
    onStored: async (events) => {
      await enqueueComplaintTickets(hotline.queue, await forTheHotline(events, homes, rules));
      // Every filed plan is checked and the result kept for the coordination view, in a queue of its own.
      await plans.enqueueFiled(events);
    },
  });
  stops.push(() => store.close(config.SHUTDOWN_TIMEOUT_MS));

  // In the background: evaluations that come first read what they need themselves. Stopping waits for it.
  const warmed = warmEvaluation({ storage, histories, alerts, facts, maxEvents: config.EVALUATE_MEMORY_EVENTS, chunk: config.EVALUATE_CHUNK })
    .then((report) => (log.info(report, 'evaluation memory warmed'), report))
    .catch((err: Error) => (log.warn({ err: err.message }, 'evaluation memory not warmed; evaluations read what they need'), null));
  stops.push(() => warmed);
  return warmed;
}

/**
 * The stored complaints that become 12345 tickets: those about companies whose home region's policy sends
 * complaints to the hotline (the default), judged like the rules and the ticket's own filing, by the company's home.
 */
async function forTheHotline(events: readonly Event[], homes: Pick<Homes, 'regions'>, rules: RuleRegistry): Promise<Event[]> {
  const complaints = events.filter((e): e is Extract<Event, { type: 'complaint' }> => e.type === 'complaint');
  if (complaints.length === 0) return [];
  const home = await homes.regions('enterprise', complaints.map((e) => e.enterprise_id));
  return complaints.filter((e) => complaintsGoTo(rules.current(), home.get(e.enterprise_id) ?? e.region, 'hotline'));
}

/**
 * Raises an alert the system itself decides (a hotline ticket missed its SLA),
 * under the company's lock like the engine's alerts, and sends it out the same
 * way. Raising the same candidate again writes nothing (and completes a
 * delivery a crash cut short).
 */
async function raiseSystemAlert(alerts: AlertStore, locks: Locks, delivery: Delivery, candidate: AlertCandidate): Promise<void> {
  await locks.withLocks([enterpriseLock(candidate.enterprise_id)], async (lease) => {
    const existing = await alerts.byIds([candidate.fingerprint]);
    lease.ensure();
    await delivery.decided(reconcile(existing, [candidate], [], new Date(), 'hotline SLA breached'), [...existing.values()]);
  });
}

/** The way out for decided alerts (saved, then to the feed journal, hotline tickets, escalation timers); both roles send alerts out. */
function startDelivery(
  config: Config, urls: RedisUrls, redis: RoleConnections, storage: Storage, alerts: AlertStore, rules: RuleRegistry, metrics: Metrics,
  stops: Array<() => Promise<unknown>>,
) {
  const journal = createJournal(redis.feed, config.REDIS_PREFIX, { retain: config.FEED_RETAIN, openReader: () => workerConnection(urls.feed) });
  const silences = createSilenceStore(storage);
  const escalations = openQueue('escalation', redis.queues, config.REDIS_PREFIX);
  stops.push(() => escalations.close());
  const hotlineQueue = openQueue('hotline', redis.queues, config.REDIS_PREFIX);
  stops.push(() => hotlineQueue.close());
  const openTickets = async (alerts: Alert[]) => void (await enqueueAlertTickets(hotlineQueue, alerts));
  const delivery = createDelivery({ alerts, journal, silences, rules, escalations, openTickets, metrics });
  return { journal, silences, delivery, hotlineQueue };
}

async function startApi(
  config: Config, urls: RedisUrls, storage: Storage, rules: RuleRegistry, metrics: Metrics, log: Logger, stops: Array<() => Promise<unknown>>,
  alone: boolean,
): Promise<{ url: string; routes: Map<string, Access | undefined>; adminToken: string | null; adminTokenFile: string | null }> {
  const tokens = createTokenStore(storage);
  const audit = createAuditLog(storage);
  const { token: adminToken, file: adminTokenFile } = await bootstrapAdmin(config, tokens, log, alone);
  // Locks and rate limits on the coordination Redis; queues, remembered ids and the feed on theirs.
  const connections = openRoleConnections(urls, producerConnection);
  for (const connection of connections.connections()) connection.on('error', (err) => log.debug({ err: err.message }, 'producer redis error'));
  stops.push(async () => connections.disconnect());
  for (const connection of connections.connections()) await untilReady(connection);
  const redis: Redis = connections.coordination;
  const queue = openQueue('store', connections.queues, config.REDIS_PREFIX);
  queue.on('error', (err) => log.debug({ err: err.message }, 'queue error'));
  stops.push(() => queue.close());
  const acceptor: EventAcceptor = createEventAcceptor({
    queue,
    seen: createSeenIds(connections.dedup, config.REDIS_PREFIX, config.DEDUP_TTL_S),
    coalesceMs: config.INGEST_COALESCE_MS,
    maxEventsPerJob: config.INGEST_MAX_EVENTS,
    log,
    metrics,
  });
  stops.push(() => acceptor.flush());
  // The API never reconciles, so it remembers no alerts; it counts what people's actions write.
  const alerts = createAlertStore(storage, createLocks(redis, config.REDIS_PREFIX), createAlertMemory(redis, config.REDIS_PREFIX, 0));
  const { journal, silences, delivery, hotlineQueue } = startDelivery(config, urls, connections, storage, alerts, rules, metrics, stops);
  hotlineQueue.on('error', (err) => log.debug({ err: err.message }, 'hotline queue error'));
  const reference = createReferenceStore(storage);
  const officers = createOfficerStore(storage);
  // Where companies and agencies are at home: every write is judged by it (src/reference/homes.ts).
  const homes = createHomes(redis, reference, config.REDIS_PREFIX);
  const rateLimiter = createRateLimiter(redis, config.REDIS_PREFIX, {
    perMinute: config.RATE_LIMIT_PER_MINUTE, ingestPerMinute: config.RATE_LIMIT_INGEST_PER_MINUTE, feedConnectsPerMinute: config.RATE_LIMIT_FEED_CONNECTS_PER_MINUTE,
  });
  // A company's status sent or corrected is decided again by the evaluate workers.
  const evaluations = openQueue('evaluate', connections.queues, config.REDIS_PREFIX);
  evaluations.on('error', (err) => log.debug({ err: err.message }, 'evaluate queue error'));
  stops.push(() => evaluations.close());
  // A backup counts every registered queue's backlog into its manifest.
  const backlog = QUEUE_KEYS.map((key): Queue => openQueue(key, connections.queues, config.REDIS_PREFIX));
  stops.push(() => Promise.all(backlog.map((q) => q.close())));
  // The API samples every queue.
  stops.push(startSampler({
    metrics, connection: connections.queues, redisPrefix: config.REDIS_PREFIX, storage, everyMs: config.METRICS_SAMPLE_MS, log: log.child({ role: 'metrics' }),
  }));

  const ticketStore = createTicketStore(storage, createLocks(redis, config.REDIS_PREFIX));
  const app = createHttpApp({
    log: log.child({ role: 'api' }),
    metrics,
    tokens,
    rateLimiter,
    metricsPublic: config.METRICS_PUBLIC,
    maxBodyBytes: config.INGEST_MAX_BYTES,
    bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS,
    maxItems: config.INGEST_MAX_EVENTS,
    routes: [
      tokenRoutes(tokens, audit, homes),
      metricsRoutes(metrics.registry),
      healthRoutes({
        ...redisChecks(connections),
        clickhouse: () => storage.ping(),
        migrations: async () => {
          const pending = await pendingMigrations(storage);
          if (pending.length > 0) throw new Error(`pending: ${pending.map((m) => m.version).join(', ')}`);
        },
      }, { version: VERSION }),
      ingestRoutes({ acceptor, homes, maxEvents: config.INGEST_MAX_EVENTS, maxFutureSkewSeconds: config.INGEST_MAX_FUTURE_SKEW_S }),
      // A company's status sent or corrected re-decides its alerts since the status date (已注销 arriving after the record).
      referenceRoutes(reference, homes, config.INGEST_MAX_EVENTS, async (changes) => void (await evaluations.add('batch', { kind: 'batch', changes }))),
      officerRoutes(officers, reference, config.INGEST_MAX_EVENTS),
      timelineRoutes(storage),
      planReviewRoutes(storage),
      feedRoutes(),
      alertRoutes(alerts, delivery.acted),
      silenceRoutes(silences),
      ruleRoutes(rules),
      statsRoutes(storage, () => rules.current()),
      hotlineRoutes({
        store: ticketStore,
        queue: hotlineQueue,
        settings: hotlineSettings(config),
        categories: () => ticketCategories(rules.current().rules.map((r) => r.spec.id)),
        homes,
      }),
      exportRoutes({ alerts, tickets: ticketStore, reference, officers }),
      planRoutes({ checker: createPlanChecker(storage, rules), homes, audit }),
      // Stores write their audit entries themselves (createAuditLog(storage) by default), in the same path as the revision.
      auditRoutes(audit, { regionPrefix: (c) => jurisdictionOf(c) || null }),
      backupRoutes(backupSources(config, urls, redis, storage, backlog, adminTokenFile), audit),
      consoleRoutes(),
    ],
  });

  const server = await listen(app.fetch, config.PORT, config.HOST);
  stops.push(() => closeServer(server));
  const feed = attachFeed(server as HttpServer, {
    journal,
    tokens,
    rateLimiter,
    log: log.child({ role: 'feed' }),
    maxPayloadBytes: config.FEED_MAX_PAYLOAD_BYTES,
    maxBufferBytes: config.FEED_MAX_BUFFER_BYTES,
    pingMs: config.FEED_PING_MS,
  });
  stops.push(() => feed.close());
  metrics.observeFeed(feed.stats);
  const { port } = server.address() as { port: number };
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  return { url: `http://${host}:${port}`, routes: routeAccess(app), adminToken, adminTokenFile };
}

// Only the embedded default is backed up by Qingjian itself: a ClickHouse server and an outside Redis have their own tools.
function backupSources(
  config: Config, urls: RedisUrls, redis: Redis, storage: Storage, queues: Queue[], adminTokenFile: string | null,
): BackupSources | { unavailable: string } {
  if (config.CLICKHOUSE_URL) return { unavailable: 'this service stores in a ClickHouse server: back that up with its own BACKUP (README: Production)' };
  if (config.REDIS_URL || new Set(Object.values(urls)).size > 1) {
    return { unavailable: 'this service uses an outside Redis: back it up with its own persistence (README: Production)' };
  }
  return {
    storage, database: config.CLICKHOUSE_DATABASE, redis, queues, root: backupsDir(config), adminTokenFile, version: VERSION,
    migrations: async () => {
      const pending = new Set((await pendingMigrations(storage)).map((m) => m.version));
      return MIGRATIONS.map((m) => m.version).filter((v) => !pending.has(v));
    },
  };
}

// `qingjian start` on its own data (the quick start) makes its first admin token and keeps it in a file;
// anything else gets its first token from QINGJIAN_BOOTSTRAP_TOKEN (or an admin's `qingjian tokens create`).
async function bootstrapAdmin(
  config: Config, tokens: TokenStore, log: Logger, alone: boolean,
): Promise<{ token: string | null; file: string | null }> {
  const tokenFile = alone && !config.CLICKHOUSE_URL ? join(config.DATA_DIR, 'admin-token') : undefined;
  const token = await ensureBootstrapToken(tokens, { token: config.QINGJIAN_BOOTSTRAP_TOKEN, tokenFile, log });
  const file = token && !config.QINGJIAN_BOOTSTRAP_TOKEN && tokenFile ? tokenFile : null;
  if (file) log.info({ file }, 'admin token kept in this file: sign in to the console with it');
  if (!token && (await tokens.list()).length === 0) log.warn('no API token exists: set QINGJIAN_BOOTSTRAP_TOKEN to create the first admin token');
  return { token, file };
}

function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

function listen(fetch: Parameters<typeof serve>[0]['fetch'], port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}

// Stop accepting, let in-flight requests finish (they hold acknowledgements
// clients are waiting for), then drop idle keep-alive sockets.
function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}
