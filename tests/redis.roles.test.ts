import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueue } from '../src/queues/index.js';
import { producerConnection } from '../src/redis/connection.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { openRoleConnections, redisUrls } from '../src/redis/roles.js';

// Which connection each role gets when every role is on one real redis-server (REDIS_URL alone).
let dir: string;
let redis: LocalRedis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qingjian-redis-roles-'));
  redis = await startLocalRedis({ dir });
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ready = (connection: { status: string; once(event: 'ready', f: () => void): unknown }) =>
  connection.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => connection.once('ready', resolve));

describe('role connections on one instance', () => {
  it('share one connection, but the queues have their own, so pipelines of the others carry none of BullMQ’s scripts', async () => {
    const connections = openRoleConnections(redisUrls({}, redis.url), producerConnection);
    await Promise.all(connections.connections().map(ready));
    expect(connections.instances()).toHaveLength(1);
    expect(connections.connections()).toHaveLength(2);
    expect(connections.dedup).toBe(connections.coordination);
    expect(connections.feed).toBe(connections.coordination);
    expect(connections.queues).not.toBe(connections.coordination);

    const queue = openQueue('store', connections.queues, 'roles-test');
    await queue.add('batch', { received_at: new Date().toISOString(), events: [] });
    expect(Object.keys(connections.queues.scriptsSet).length).toBeGreaterThan(0);
    expect(Object.keys(connections.coordination.scriptsSet)).toEqual([]);
    const replies = await connections.coordination.pipeline().set('roles-test:k', '1').get('roles-test:k').exec();
    expect(replies).toEqual([[null, 'OK'], [null, '1']]);

    await queue.close();
    connections.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    expect(connections.connections().map((c) => c.status)).toEqual(['end', 'end']);
  });

  it('use one connection for the queues when they are on an instance of their own', async () => {
    const connections = openRoleConnections(redisUrls({ REDIS_QUEUES_URL: `${redis.url}/1` }, redis.url), producerConnection);
    await Promise.all(connections.connections().map(ready));
    expect(connections.instances().map((i) => i.roles)).toEqual([['coordination', 'dedup', 'feed'], ['queues']]);
    expect(connections.connections()).toEqual(connections.instances().map((i) => i.redis));
    connections.disconnect();
  });
});
