/**
 * WebSocket clients of the live feed for bench/feed.ts, in a process of their
 * own so their work never shares the service's event loop. Opens `count`
 * connections to GET /v1/alerts/stream, subscribes each with no filters and
 * waits for `caught_up`.
 *
 * - measure: every alert message is recorded per client (receive time taken
 *   before the message is parsed); on `analyse` each client's messages are
 *   checked against the journal (every entry exactly once, in order) and the
 *   latency of each trigger's alert is computed against its POST time.
 * - idle: the connections just stay open (and answer pings) until `close`.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { benchAuth } from './token.js';

export interface ClientsPlan {
  url: string;
  count: number;
  mode: 'measure' | 'idle';
  /** Connections being opened at once. */
  concurrency: number;
}

export type ToClients =
  | { type: 'connect' }
  | { type: 'expect'; triggers: string[] }
  | { type: 'progress' }
  | { type: 'mark' }
  | { type: 'analyse'; posted: Array<[string, number]>; journal: string[]; fromSeq: string; toSeq: string }
  | { type: 'status' }
  | { type: 'close' };

export interface ClientResult {
  /** Expected triggers whose alert this client received. */
  received: number;
  missing: number;
  /** Alert messages whose seq (journal entry) this client had already received. */
  duplicateSeqs: number;
  /** Alert messages repeating an (alert id, revision) already received under another seq. */
  duplicateRevisions: number;
  /** Journal entries of the measured span this client never received / received out of order / received but not in the journal. */
  journalMissing: number;
  outOfOrder: number;
  notInJournal: number;
  p50: number;
  p99: number;
  max: number;
}

export type FromClients =
  | { type: 'started' }
  | { type: 'ready'; open: number; failed: number; connectMs: number; nofile: string; firstError: string | null }
  | { type: 'progress'; minReceived: number; maxReceived: number; closed: number }
  | { type: 'status'; open: number; closed: number; closeCodes: Record<string, number> }
  | {
    type: 'analysis';
    clients: ClientResult[];
    /** POST → received, every (client, trigger) pair of this process. */
    latencies: Float64Array;
    /** raised_at (the engine's decision) → received, every (client, trigger) pair. */
    fanout: Float64Array;
    /** POST → raised_at, per trigger (the same for every client; from this process's first client). */
    pipeline: Float64Array;
    cpuMs: number;
    wallMs: number;
    closeCodes: Record<string, number>;
  };

interface Received {
  t: number;
  seq: string;
  enterprise: string;
  key: string;
  raisedAt: number;
  action: string;
}

interface Client {
  ws: WebSocket;
  alerts: Received[];
  expectedSeen: Set<string>;
  open: boolean;
}

const plan = JSON.parse(process.argv[2]!) as ClientsPlan;
const streamUrl = `${plan.url.replace(/^http/, 'ws')}/v1/alerts/stream`;
const clients: Client[] = [];
const closeCodes: Record<string, number> = {};
let expected = new Set<string>();
let firstError: string | null = null;
let failed = 0;
const now = () => performance.timeOrigin + performance.now();

function nofile(): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return line ? line.replace(/^Max open files\s+/, '').trim().split(/\s+/).slice(0, 2).join('/') : 'unknown';
}

function connect(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(streamUrl, { perMessageDeflate: false, headers: benchAuth });
    const client: Client = { ws, alerts: [], expectedSeen: new Set(), open: false };
    let settled = false;
    const done = (ok: boolean, why?: string) => {
      if (settled) return;
      settled = true;
      if (ok) clients.push(client);
      else {
        failed++;
        firstError ??= why ?? 'failed';
        ws.terminate();
      }
      resolve();
    };
    ws.on('message', (data) => {
      const t = now();
      const text = data.toString();
      if (plan.mode === 'idle' && client.open) return;
      const message = JSON.parse(text);
      if (message.type === 'alert') {
        const alert = message.alert;
        const item: Received = {
          t, seq: message.seq, enterprise: alert.enterprise_id, key: `${alert.id}:${alert.revision}`,
          raisedAt: Date.parse(alert.raised_at), action: message.action,
        };
        if (plan.mode === 'measure') {
          client.alerts.push(item);
          if (message.action === 'raised' && expected.has(item.enterprise)) client.expectedSeen.add(item.enterprise);
        }
      } else if (message.type === 'caught_up') {
        client.open = true;
        done(true);
      } else if (message.type === 'error' || message.type === 'reset') {
        firstError ??= text;
      }
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', filters: {}, after: null })));
    ws.on('error', (err) => done(false, err.message));
    ws.on('close', (code, reason) => {
      client.open = false;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      if (!settled) done(false, `closed ${code} ${reason.toString()}`);
    });
  });
}

const percentile = (sorted: Float64Array | number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function analyse(message: Extract<ToClients, { type: 'analyse' }>) {
  const posted = new Map(message.posted);
  const journalIndex = new Map(message.journal.map((s, i) => [s, i]));
  const compare = (a: string, b: string) => {
    const [am, an] = a.split('-').map(Number) as [number, number];
    const [bm, bn] = b.split('-').map(Number) as [number, number];
    return am === bm ? an - bn : am - bm;
  };
  const latencies: number[] = [];
  const fanout: number[] = [];
  const pipeline: number[] = [];
  const results: ClientResult[] = clients.map((client, c) => {
    const seenSeq = new Set<string>();
    const seenKey = new Set<string>();
    const seenTrigger = new Set<string>();
    let duplicateSeqs = 0;
    let duplicateRevisions = 0;
    let notInJournal = 0;
    let outOfOrder = 0;
    let last = -1;
    const own: number[] = [];
    for (const a of client.alerts) {
      if (compare(a.seq, message.fromSeq) <= 0 || compare(a.seq, message.toSeq) > 0) continue;
      if (seenSeq.has(a.seq)) {
        duplicateSeqs++;
        continue;
      }
      seenSeq.add(a.seq);
      if (seenKey.has(a.key)) duplicateRevisions++;
      seenKey.add(a.key);
      const index = journalIndex.get(a.seq);
      if (index === undefined) notInJournal++;
      else {
        if (index < last) outOfOrder++;
        last = index;
      }
      const at = posted.get(a.enterprise);
      if (at !== undefined && a.action === 'raised' && !seenTrigger.has(a.enterprise)) {
        seenTrigger.add(a.enterprise);
        own.push(a.t - at);
        fanout.push(a.t - a.raisedAt);
        if (c === 0) pipeline.push(a.raisedAt - at);
      }
    }
    latencies.push(...own);
    own.sort((x, y) => x - y);
    const journalMissing = message.journal.filter((s) => !seenSeq.has(s)).length;
    return {
      received: seenTrigger.size, missing: posted.size - seenTrigger.size, duplicateSeqs, duplicateRevisions,
      journalMissing, outOfOrder, notInJournal,
      p50: percentile(own, 50), p99: percentile(own, 99), max: own.at(-1) ?? NaN,
    };
  });
  return { results, latencies: Float64Array.from(latencies), fanout: Float64Array.from(fanout), pipeline: Float64Array.from(pipeline) };
}

let cpuMark = process.cpuUsage();
let wallMark = performance.now();

process.on('message', (message: ToClients) => {
  const reply = (m: FromClients) => process.send!(m);
  switch (message.type) {
    case 'connect':
      void main();
      break;
    case 'expect':
      expected = new Set(message.triggers);
      for (const c of clients) c.expectedSeen.clear();
      break;
    case 'mark':
      cpuMark = process.cpuUsage();
      wallMark = performance.now();
      break;
    case 'progress': {
      const counts = clients.map((c) => c.expectedSeen.size);
      reply({ type: 'progress', minReceived: Math.min(...counts), maxReceived: Math.max(...counts), closed: clients.filter((c) => !c.open).length });
      break;
    }
    case 'analyse': {
      const cpu = process.cpuUsage(cpuMark);
      const wallMs = performance.now() - wallMark;
      const { results, latencies, fanout, pipeline } = analyse(message);
      reply({ type: 'analysis', clients: results, latencies, fanout, pipeline, cpuMs: (cpu.user + cpu.system) / 1000, wallMs, closeCodes });
      break;
    }
    case 'status':
      reply({ type: 'status', open: clients.filter((c) => c.open).length, closed: clients.filter((c) => !c.open).length, closeCodes });
      break;
    case 'close':
      for (const c of clients) c.ws.terminate();
      process.disconnect();
      setTimeout(() => process.exit(0), 200).unref();
      break;
  }
});

async function main() {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.count) }, async () => {
    while (next < plan.count) {
      next++;
      await connect();
    }
  }));
  process.send!({
    type: 'ready', open: clients.length, failed, connectMs: performance.now() - started, nofile: nofile(), firstError,
  } satisfies FromClients);
}

// Connecting starts on `connect`, so the benchmark times the connections, not this process's start-up.
process.send!({ type: 'started' } satisfies FromClients);
