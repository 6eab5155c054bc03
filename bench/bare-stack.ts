/**
 * `npm run bench:baseline`: the bare stack. The same packages as the service, doing only accept → Redis (a
 * BullMQ job per request) → ClickHouse (chdb, one insert per job) → WebSocket push of each stored event, with none
 * of Qingjian's validation, dedup, rules or delivery. Its figures are the ceiling the service's own are read
 * against: run it in the same session and report the ratio. Prints a table and writes
 * bench/results/bare-stack.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Queue, Worker } from 'bullmq';
import { Session } from 'chdb';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';
import { startLocalRedis } from '../src/redis/local-server.js';
import type { LoadPlan, LoadReport } from './load-client.js';
import { BODIES_PER_SECOND, wrkEvents } from './wrk.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const QUEUE = 'bare';

/** The stack under test, in this process as `qingjian start` runs in one. */
async function startBareStack(dir: string) {
  const redis = await startLocalRedis({ dir: join(dir, 'redis') });
  const session = new Session(join(dir, 'clickhouse'));
  await session.queryAsync('CREATE TABLE events (id String, occurred_at String, body String) ENGINE = MergeTree ORDER BY id');
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue<{ events: Array<Record<string, unknown>> }>(QUEUE, { connection });

  const app = new Hono();
  app.post('/v1/events', async (c) => {
    const body = await c.req.json() as Record<string, unknown> | Array<Record<string, unknown>>;
    const events = Array.isArray(body) ? body : [body];
    await queue.add('batch', { events }, { removeOnComplete: true });
    return c.json({ accepted: events.length }, 202);
  });
  const http = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise((r) => http.once('listening', r));
  const sockets = new WebSocketServer({ server: http as ReturnType<typeof createServer>, path: '/stream' });

  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const insert = insertBatcher(session);
  const worker = new Worker<{ events: Array<Record<string, unknown>> }>(QUEUE, async (job) => {
    await insert(job.data.events.map((e) => JSON.stringify({ id: e.id, occurred_at: e.occurred_at, body: JSON.stringify(e) })));
    const message = JSON.stringify(job.data.events.map((e) => ({ id: e.id, sent_at: e.sent_at })));
    for (const client of sockets.clients) client.send(message);
  }, { connection: workerConnection, concurrency: 256 });

  const { port } = http.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stored: async (prefix: string) => Number(JSON.parse((await session.queryBindAsync(
      'SELECT count() AS n FROM events WHERE startsWith(id, {p:String})', { p: prefix }, { format: 'JSONEachRow' })).text()).n),
    async stop() {
      await worker.close();
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
      sockets.close();
      await new Promise((r) => http.close(r));
      session.close();
      await redis.stop();
    },
  };
}

/**
 * Group commit: rows that arrive while an insert runs go into the next one. At a low rate each job's rows are
 * inserted at once; under load the batches grow by themselves. A chdb insert per job tops out at a few hundred a
 * second, far below the rest of the stack.
 */
function insertBatcher(session: Session) {
  let rows: string[] = [];
  let waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  let inserting = false;
  const drain = async () => {
    inserting = true;
    while (rows.length > 0) {
      const [batch, waiters] = [rows, waiting];
      [rows, waiting] = [[], []];
      try {
        await session.insert({ table: 'events', values: Buffer.from(batch.join('\n')), format: 'JSONEachRow' });
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    inserting = false;
  };
  return (added: readonly string[]) => new Promise<void>((resolve, reject) => {
    rows.push(...added);
    waiting.push({ resolve, reject });
    if (!inserting) void drain();
  });
}

function runLoad(plan: LoadPlan): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'load-client.ts'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadReport) : reject(new Error(`load client exited ${code}`))));
  });
}

async function untilStored(stored: () => Promise<number>, expected: number): Promise<void> {
  while ((await stored()) < expected) await new Promise((r) => setTimeout(r, 100));
}

/** Event → WebSocket client at a steady rate, from a child process that both sends and listens (one clock). */
function pushLatency(url: string, perSecond: number, seconds: number): Promise<{ p50Ms: number; p99Ms: number; received: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--probe', url, String(perSecond), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}`))));
  });
}

async function probe(url: string, perSecond: number, seconds: number): Promise<void> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/stream`);
  await new Promise((r) => ws.once('open', r));
  const latencies: number[] = [];
  ws.on('message', (data) => {
    const now = performance.timeOrigin + performance.now();
    for (const e of JSON.parse(data.toString()) as Array<{ sent_at: number }>) latencies.push(now - e.sent_at);
  });
  const total = perSecond * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    void fetch(`${url}/v1/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: `push-${i}`, occurred_at: new Date().toISOString(), sent_at: performance.timeOrigin + performance.now() }),
    });
  }
  const deadline = performance.now() + 10_000;
  while (latencies.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ws.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 10) / 10;
  process.stdout.write(`${JSON.stringify({ p50Ms: at(0.5), p99Ms: at(0.99), received: latencies.length, sent: total })}\n`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-bare-'));
  const stack = await startBareStack(dir);
  try {
    const events = Math.round(200_000 * scale);
    const batchStart = performance.now();
    const batch = await runLoad({ url: stack.url, mode: 'batch', events, batchSize: 500, concurrency: 8, ratePerSecond: 0, idPrefix: 'bb', seed: 7 });
    console.error(`batched: HTTP done in ${batch.seconds} s (${batch.ok} ok, ${batch.errors} errors)`);
    await untilStored(() => stack.stored('bb-'), events);
    const batchSeconds = (performance.now() - batchStart) / 1000;
    // The bodies of bench:ingest's wrk row.
    const wrkSeconds = Math.round(20 * scale) || 5;
    const wrk = await wrkEvents(stack.url, wrkSeconds, { kind: 'demo', count: wrkSeconds * BODIES_PER_SECOND, seed: 3, idPrefix: 'wrk' }, dir);
    if (wrk) await untilStored(() => stack.stored('wrk-'), wrk.requests);
    const push = await pushLatency(stack.url, 1_000, Math.round(20 * scale) || 5);
    const results = {
      at: new Date().toISOString(),
      scale,
      batched: { events, seconds: Math.round(batchSeconds * 10) / 10, eventsPerSecond: Math.round(events / batchSeconds), httpP99Ms: batch.latencyMs.p99 },
      single: wrk,
      push: { ratePerSecond: 1_000, ...push },
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'bare-stack.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.table({
      'batched 500/request, HTTP → rows': { value: `${results.batched.eventsPerSecond} events/s`, 'p99 ms': batch.latencyMs.p99 },
      'single events, wrk -c32': { value: wrk ? `${wrk.rps} req/s` : 'wrk not installed', 'p99 ms': wrk?.p99Ms ?? '' },
      'event → WebSocket, 1,000 events/s': { value: `p50 ${push.p50Ms} ms`, 'p99 ms': push.p99Ms },
    });
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--probe') await probe(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();
