import type { Redis } from 'ioredis';

/**
 * Which Redis serves which part of Qingjian. One instance can serve them all
 * (REDIS_URL alone, or the service's own redis-server); a large deployment
 * moves the heavy roles to instances of their own, because they load Redis
 * in different ways:
 *
 * - `queues`: every BullMQ queue and its workers, the throughput path (AOF, noeviction);
 * - `dedup`: remembered event ids, memory that grows with DEDUP_TTL_S × event rate
 *   (losing it only lets storage fold a retry, so it may evict and skip persistence);
 * - `feed`: the live feed's stream and its blocking readers;
 * - `coordination`: locks and rate-limit counters, small and latency-bound; always REDIS_URL.
 *
 * Every process of a deployment must resolve the same URL for each role,
 * or an API would queue where no worker looks.
 */
export type RedisRole = 'coordination' | 'queues' | 'dedup' | 'feed';

export type RedisUrls = Record<RedisRole, string>;

export const REDIS_ROLES: readonly RedisRole[] = ['coordination', 'queues', 'dedup', 'feed'];

export interface RoleSettings {
  REDIS_QUEUES_URL?: string | undefined;
  REDIS_DEDUP_URL?: string | undefined;
  REDIS_FEED_URL?: string | undefined;
}

/** Each role's URL: its own setting, or the coordination Redis (REDIS_URL or the service's own server). */
export function redisUrls(settings: RoleSettings, coordinationUrl: string): RedisUrls {
  return {
    coordination: coordinationUrl,
    queues: settings.REDIS_QUEUES_URL ?? coordinationUrl,
    dedup: settings.REDIS_DEDUP_URL ?? coordinationUrl,
    feed: settings.REDIS_FEED_URL ?? coordinationUrl,
  };
}

/**
 * The roles that share an instance share one connection, except the queues': BullMQ defines its Lua scripts (64)
 * on the connection it is given, and ioredis copies every script defined on a connection onto each pipeline made
 * from it, which made each of the locks', counts' and remembered ids' pipelines cost 45 µs instead of 8 (thousands a
 * second under load). So a deployment with REDIS_URL alone opens two connections to it.
 */
export interface RoleConnections extends Record<RedisRole, Redis> {
  /** One entry per distinct instance: the roles it serves (for readiness checks and logs) and its connection. */
  instances(): Array<{ roles: RedisRole[]; url: string; redis: Redis }>;
  /** Every connection opened: the instances' and the queues' own. */
  connections(): Redis[];
  disconnect(): void;
}

/** Connects to the instances of `roles` only: a worker never needs the dedup Redis. */
export function openRoleConnections(urls: RedisUrls, open: (url: string) => Redis, roles: readonly RedisRole[] = REDIS_ROLES): RoleConnections {
  const byUrl = new Map<string, { roles: RedisRole[]; url: string; redis: Redis }>();
  for (const role of roles) {
    const url = urls[role];
    const instance = byUrl.get(url) ?? { roles: [], url, redis: open(url) };
    instance.roles.push(role);
    byUrl.set(url, instance);
  }
  const queuesInstance = roles.includes('queues') ? byUrl.get(urls.queues)! : undefined;
  const queues = queuesInstance && queuesInstance.roles.length > 1 ? open(queuesInstance.url) : queuesInstance?.redis;
  const all = [...byUrl.values()].map((i) => i.redis);
  if (queues && !all.includes(queues)) all.push(queues);
  const of = (role: RedisRole) => {
    if (!roles.includes(role)) throw new Error(`this process opened no connection for the ${role} Redis`);
    return role === 'queues' ? queues! : byUrl.get(urls[role])!.redis;
  };
  return {
    get coordination() { return of('coordination'); },
    get queues() { return of('queues'); },
    get dedup() { return of('dedup'); },
    get feed() { return of('feed'); },
    instances: () => [...byUrl.values()],
    connections: () => all,
    disconnect() {
      for (const redis of all) redis.disconnect();
    },
  };
}

/** One /readyz check per instance: each answers PING. */
export function redisChecks(connections: RoleConnections): Record<string, () => Promise<void>> {
  return Object.fromEntries(connections.instances().map(({ roles, redis }) => [checkName(roles), async () => void (await redis.ping())]));
}

/**
 * The /readyz check name of an instance: `redis` for the one holding the
 * coordination role (as before roles existed), `redis:<roles>` for the others.
 */
export function checkName(roles: readonly RedisRole[]): string {
  return roles.includes('coordination') ? 'redis' : `redis:${roles.join('+')}`;
}

/** Hides passwords when a URL is logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
