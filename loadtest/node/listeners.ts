/**
 * The `feed` scenario of the Node twin: many live-feed listeners in a process
 * of their own, so their work never shares the load generator's event loop.
 * Each listener subscribes to `no-plan` alerts of one city (commissions watch
 * their own region) and records, for every alert of the run, receipt time −
 * the moment its trigger was sent (the alert's first_seen_at, the trigger's
 * event time, plus TRIGGER_AGE_MS: lib/traffic.js).
 *
 * Parent → child: {type:'connect', ...ListenerPlan}, {type:'report'}, {type:'close'}.
 * Child → parent: {type:'connected', ...}, {type:'report', ...ListenerReport}.
 */
import { WebSocket } from 'ws';
import { triggerSentAt } from '../lib/traffic.js';
import { Histogram, type SerializedHistogram } from './histogram.js';

export interface ListenerPlan {
  url: string;
  token: string;
  count: number;
  /** City prefix per listener, e.g. '3714'. */
  regions: string[];
  run: { nonce: string; started_at: number };
  concurrency: number;
}

export interface RegionReport {
  listeners: number;
  /** Fewest and most distinct alerts one listener of the region received. */
  minReceived: number;
  maxReceived: number;
  /** Alerts the region's listeners received between them (distinct). */
  distinctAlerts: number;
}

export interface ListenerReport {
  received: number;
  duplicates: number;
  closedEarly: number;
  /** Latency by the second (epoch) the trigger was sent, for per-stage figures. */
  bySecond: Record<number, SerializedHistogram>;
  regions: Record<string, RegionReport>;
}

interface Listener {
  socket: WebSocket;
  region: string;
  seen: Set<string>;
  closing: boolean;
}

const listeners: Listener[] = [];
const bySecond = new Map<number, Histogram>();
let received = 0;
let duplicates = 0;
let closedEarly = 0;
let failed = 0;

function open(plan: ListenerPlan, region: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${plan.url.replace(/^http/, 'ws')}/v1/alerts/stream`, ['qingjian.v1'], {
      headers: { authorization: `Bearer ${plan.token}` }, perMessageDeflate: false,
    });
    const listener: Listener = { socket, region, seen: new Set(), closing: false };
    let subscribed = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', filters: { rule: ['no-plan'], region }, after: null })));
    socket.on('message', (data) => {
      const receivedAt = Date.now();
      const message = JSON.parse(String(data));
      if (message.type === 'caught_up' && !subscribed) {
        subscribed = true;
        listeners.push(listener);
        resolve();
        return;
      }
      if (message.type !== 'alert' || message.action !== 'raised') return;
      const alert = message.alert;
      const sentAt = triggerSentAt(alert);
      if (alert.enterprise_id.slice(8, 10) !== plan.run.nonce || sentAt < plan.run.started_at) return;
      if (listener.seen.has(alert.id)) {
        duplicates++;
        return;
      }
      listener.seen.add(alert.id);
      received++;
      const second = Math.floor(sentAt / 1000);
      let h = bySecond.get(second);
      if (!h) bySecond.set(second, (h = new Histogram()));
      h.add(receivedAt - sentAt);
    });
    socket.on('close', () => {
      if (!subscribed) {
        failed++;
        resolve();
      } else if (!listener.closing) closedEarly++;
    });
    socket.on('error', () => {});
  });
}

async function connect(plan: ListenerPlan): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    while (next < plan.count) {
      const i = next++;
      await open(plan, plan.regions[i % plan.regions.length]!);
    }
  }));
}

function report(): ListenerReport {
  const regions: Record<string, RegionReport> = {};
  const distinct = new Map<string, Set<string>>();
  for (const l of listeners) {
    const r = (regions[l.region] ??= { listeners: 0, minReceived: Infinity, maxReceived: 0, distinctAlerts: 0 });
    r.listeners++;
    r.minReceived = Math.min(r.minReceived, l.seen.size);
    r.maxReceived = Math.max(r.maxReceived, l.seen.size);
    const all = distinct.get(l.region) ?? new Set<string>();
    for (const id of l.seen) all.add(id);
    distinct.set(l.region, all);
  }
  for (const [region, ids] of distinct) regions[region]!.distinctAlerts = ids.size;
  return {
    received, duplicates, closedEarly,
    bySecond: Object.fromEntries([...bySecond].map(([s, h]) => [s, h.toJSON()])),
    regions,
  };
}

process.on('message', async (message: { type: string } & Partial<ListenerPlan>) => {
  if (message.type === 'connect') {
    const started = Date.now();
    await connect(message as ListenerPlan);
    process.send!({ type: 'connected', connected: listeners.length, failed, seconds: (Date.now() - started) / 1000 });
  } else if (message.type === 'report') {
    process.send!({ type: 'report', ...report() });
  } else if (message.type === 'close') {
    for (const l of listeners) {
      l.closing = true;
      l.socket.close();
    }
    setTimeout(() => process.exit(0), 200);
  }
});
