import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { workerConnection } from '../src/redis/connection.js';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { defineScript } from '../src/redis/script.js';

// Lua scripts by their SHA, against a real redis-server: the text goes once per connection, and again after Redis
// lost its script cache (as a restarted one has).
let dir: string;
let server: LocalRedis;
let redis: Redis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qingjian-redis-script-'));
  server = await startLocalRedis({ dir });
  redis = workerConnection(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SWAP = `
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
return old`;

async function calls(): Promise<{ eval: number; evalsha: number }> {
  const text = String(await redis.info('commandstats'));
  const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
  return { eval: count('eval'), evalsha: count('evalsha') };
}

describe('a script defined on a connection', () => {
  it('runs with its keys and arguments, alone and in a pipeline, with replies in order', async () => {
    const swap = defineScript(redis, 'testSwap', SWAP);
    expect(await swap.run(['s:a'], 'one')).toBeNull();
    expect(await swap.run(['s:a'], 2)).toBe('one');
    const pipeline = redis.pipeline();
    swap.queue(pipeline, ['s:a'], 'three');
    swap.queue(pipeline, ['s:b'], 'four');
    pipeline.get('s:a');
    expect(await pipeline.exec()).toEqual([[null, '2'], [null, null], [null, 'three']]);
  });

  it('sends its text once, then its SHA only', async () => {
    const swap = defineScript(redis, 'testSwapOnce', SWAP);
    await swap.run(['o:a'], 'first');
    const before = await calls();
    for (let i = 0; i < 20; i++) await swap.run(['o:a'], i);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 20; i++) swap.queue(pipeline, [`o:${i}`], i);
    await pipeline.exec();
    const after = await calls();
    expect(after.eval - before.eval).toBe(0);
    expect(after.evalsha - before.evalsha).toBe(40);
  });

  it('still runs, alone and in a pipeline, after Redis lost its scripts', async () => {
    const swap = defineScript(redis, 'testSwapFlushed', SWAP);
    await swap.run(['f:a'], 'before');
    await redis.script('FLUSH');
    expect(await swap.run(['f:a'], 'after')).toBe('before');
    await redis.script('FLUSH');
    const pipeline = redis.pipeline();
    swap.queue(pipeline, ['f:a'], 'piped');
    swap.queue(pipeline, ['f:b'], 'piped');
    expect(await pipeline.exec()).toEqual([[null, 'after'], [null, null]]);
    expect(await redis.mget('f:a', 'f:b')).toEqual(['piped', 'piped']);
  });
});
