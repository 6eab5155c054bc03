/**
 * What the chaos suite checks, read from the real stores: ClickHouse (through
 * the same HTTP endpoint the workers use) for rows, alerts and tickets, Redis
 * for the queues and the feed journal.
 *
 * "Stored exactly once" is read with FINAL, as every reader of the service
 * does: a retried insert may write a row twice, and ReplacingMergeTree folds
 * it. The raw (unfolded) row count is reported too, to show it happened.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, QUEUES } from '../src/queues/index.js';
import { feedStream } from '../src/feed/journal.js';
import { createServerStorage } from '../src/storage/server.js';
import type { Storage } from '../src/storage/index.js';
import type { PhaseTraffic, RequestRecord } from './traffic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a set of acknowledged requests must leave behind. */
export interface Expectation {
  /** event id → the companies it has a row for. */
  rows: Map<string, Set<string>>;
  rowCount: number;
  triggers: Set<string>;
  complaints: Set<string>;
}

export function expectationOf(records: readonly RequestRecord[]): Expectation {
  const rows = new Map<string, Set<string>>();
  const triggers = new Set<string>();
  const complaints = new Set<string>();
  let rowCount = 0;
  for (const { plan } of records) {
    for (const [id, company] of plan.rows) {
      let companies = rows.get(id);
      if (!companies) rows.set(id, (companies = new Set()));
      companies.add(company);
      rowCount++;
    }
    for (const c of plan.triggers) triggers.add(c);
    for (const c of plan.complaints) complaints.add(c);
  }
  return { rows, rowCount, triggers, complaints };
}

export interface Backlog {
  /** store-events jobs not done: waiting, active, prioritized, or delayed (a retry after a failure). */
  store: number;
  /** evaluate-events and hotline jobs ready or running (their delayed jobs are deadlines, not backlog). */
  evaluate: number;
  hotline: number;
  failed: number;
  /** Redis did not answer. */
  unknown?: boolean;
}

export interface Verification {
  events: { expected: number; storedOnce: number; missing: number; duplicated: number; unexpected: number; rawRows: number; finalRows: number; examples: string[] };
  alerts: { expected: number; found: number; duplicated: number; unexpected: number; examples: string[] };
  tickets: { expected: number; found: number; duplicated: number; openedTwice: number; unexpected: number; examples: string[] };
  feed: { expected: number; raisedOnce: number; duplicated: number };
  failedJobs: number;
}

export interface Probe {
  storage: Storage;
  redis: Redis;
  backlog(): Promise<Backlog>;
  /** store-events jobs a worker holds right now (locked, mid-batch). */
  activeStoreJobs(): Promise<number>;
  /** How many of the expected rows, alerts and tickets exist (presence only, cheap). */
  present(traffic: PhaseTraffic, expect: Expectation): Promise<{ rows: number; alerts: number; tickets: number }>;
  /** Polls until everything expected exists (and, if asked, the queues are empty); the time it happened, or null on timeout. */
  waitFor(traffic: PhaseTraffic, expect: Expectation, options: { drained: boolean; timeoutMs: number; stop?: () => boolean }): Promise<number | null>;
  /** 'stalled' events (jobs a dead worker held, moved back to wait) per queue since a time. */
  stalledSince(since: number): Promise<Record<string, number>>;
  verify(traffic: PhaseTraffic, expect: Expectation): Promise<Verification>;
  close(): Promise<void>;
}

export function createProbe(options: { clickhouseUrl: string; redisUrl: string; redisPrefix: string }): Probe {
  const storage = createServerStorage({ url: options.clickhouseUrl, database: 'default', username: 'default', password: '' });
  // Fails fast while Redis is down (the probe must not hang), reconnects by itself.
  const redis = new Redis(options.redisUrl, {
    maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1_000, retryStrategy: (n) => Math.min(n * 100, 1_000),
  });
  redis.on('error', () => {});
  const prefix = bullPrefix(options.redisPrefix);
  const queues = [QUEUES.store.name, QUEUES.evaluate.name, QUEUES.hotline.name].map((name) => {
    const q = new Queue(name, { connection: redis, prefix });
    q.on('error', () => {});
    return q;
  });
  const [store, evaluate, hotline] = queues as [Queue, Queue, Queue];

  async function backlog(): Promise<Backlog> {
    try {
      const [s, e, h] = await Promise.all([
        store.getJobCounts('wait', 'active', 'prioritized', 'delayed', 'failed'),
        evaluate.getJobCounts('wait', 'active', 'prioritized', 'failed'),
        hotline.getJobCounts('wait', 'active', 'prioritized', 'failed'),
      ]);
      const sum = (c: Record<string, number>, keys: string[]) => keys.reduce((n, k) => n + (c[k] ?? 0), 0);
      return {
        store: sum(s, ['wait', 'active', 'prioritized', 'delayed']),
        evaluate: sum(e, ['wait', 'active', 'prioritized']),
        hotline: sum(h, ['wait', 'active', 'prioritized']),
        failed: (s.failed ?? 0) + (e.failed ?? 0) + (h.failed ?? 0),
      };
    } catch {
      return { store: -1, evaluate: -1, hotline: -1, failed: -1, unknown: true };
    }
  }

  async function distinct(sql: string, params: Record<string, unknown>): Promise<Set<string>> {
    const rows = await storage.query<{ v: string }>(sql, params);
    return new Set(rows.map((r) => r.v));
  }

  async function present(traffic: PhaseTraffic, expect: Expectation) {
    const [ids, alerted, ticketed] = await Promise.all([
      distinct('SELECT DISTINCT id AS v FROM events WHERE startsWith(id, {p:String})', { p: traffic.idPrefix }),
      distinct("SELECT DISTINCT enterprise_id AS v FROM alerts WHERE rule_id = 'no-plan' AND startsWith(enterprise_id, {c:String})", { c: traffic.companyPrefix }),
      distinct("SELECT DISTINCT source_id AS v FROM tickets WHERE source = 'complaint' AND startsWith(enterprise_id, {c:String})", { c: traffic.companyPrefix }),
    ]);
    let rows = 0;
    for (const id of expect.rows.keys()) if (ids.has(id)) rows++;
    let alerts = 0;
    for (const c of expect.triggers) if (alerted.has(c)) alerts++;
    let tickets = 0;
    for (const c of expect.complaints) if (ticketed.has(c)) tickets++;
    return { rows, alerts, tickets };
  }

  return {
    storage,
    redis,
    backlog,
    present,
    activeStoreJobs: () => store.getActiveCount(),

    async waitFor(traffic, expect, { drained, timeoutMs, stop }) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !stop?.()) {
        const now = Date.now();
        try {
          const p = await present(traffic, expect);
          if (p.rows === expect.rows.size && p.alerts === expect.triggers.size && p.tickets === expect.complaints.size) {
            if (!drained) return now;
            const b = await backlog();
            if (!b.unknown && b.store === 0 && b.evaluate === 0 && b.hotline === 0) return now;
          }
        } catch {
          /* ClickHouse or Redis not answering yet: that is what we are waiting out */
        }
        await sleep(500);
      }
      return null;
    },

    async stalledSince(since) {
      const out: Record<string, number> = {};
      for (const { name, label } of [QUEUES.store, QUEUES.evaluate, QUEUES.hotline]) {
        const entries = await redis.xrange(`${prefix}:${name}:events`, String(since), '+');
        out[label] = entries.filter(([, fields]) => fields[0] === 'event' && fields[1] === 'stalled').length;
      }
      return out;
    },

    async verify(traffic, expect) {
      // Events: one row per (id, company) under FINAL, none missing, none that nobody sent.
      const rows = await storage.query<{ id: string; enterprise_id: string; n: string }>(
        'SELECT id, enterprise_id, count() AS n FROM events FINAL WHERE startsWith(id, {p:String}) GROUP BY id, enterprise_id', { p: traffic.idPrefix });
      const [raw] = await storage.query<{ n: string }>('SELECT count() AS n FROM events WHERE startsWith(id, {p:String})', { p: traffic.idPrefix });
      const seen = new Map<string, number>();
      const examples: string[] = [];
      let duplicatedRows = 0;
      let unexpectedRows = 0;
      let finalRows = 0;
      for (const r of rows) {
        const n = Number(r.n);
        finalRows += n;
        seen.set(`${r.id} ${r.enterprise_id}`, n);
        if (n > 1) (duplicatedRows++, examples.length < 5 && examples.push(`${r.id}@${r.enterprise_id} ×${n}`));
        if (!expect.rows.get(r.id)?.has(r.enterprise_id)) unexpectedRows++;
      }
      let missingRows = 0;
      let onceRows = 0;
      for (const [id, companies] of expect.rows) {
        for (const c of companies) {
          const n = seen.get(`${id} ${c}`) ?? 0;
          if (n === 0) (missingRows++, examples.length < 5 && examples.push(`missing ${id}@${c}`));
          if (n === 1) onceRows++;
        }
      }
      // An event counts as stored exactly once when every one of its rows is.
      let storedOnce = 0;
      for (const [id, companies] of expect.rows) if ([...companies].every((c) => seen.get(`${id} ${c}`) === 1)) storedOnce++;

      // Alerts: exactly one no-plan alert per trigger company, nothing anywhere else in the phase.
      const alertRows = await storage.query<{ enterprise_id: string; rule_id: string; n: string }>(
        'SELECT enterprise_id, rule_id, count() AS n FROM alerts FINAL WHERE startsWith(enterprise_id, {c:String}) GROUP BY enterprise_id, rule_id',
        { c: traffic.companyPrefix });
      const alertExamples: string[] = [];
      let found = 0;
      let dupAlerts = 0;
      let otherAlerts = 0;
      for (const a of alertRows) {
        const n = Number(a.n);
        if (a.rule_id === 'no-plan' && expect.triggers.has(a.enterprise_id)) {
          found++;
          if (n > 1) (dupAlerts++, alertExamples.push(`${a.enterprise_id} no-plan ×${n}`));
        } else (otherAlerts++, alertExamples.length < 5 && alertExamples.push(`unexpected ${a.rule_id} at ${a.enterprise_id}`));
      }

      // Tickets: exactly one per complaint, opened once, none from anything else.
      const ticketRows = await storage.query<{ source: string; source_id: string; n: string }>(
        'SELECT source, source_id, count() AS n FROM tickets FINAL WHERE startsWith(enterprise_id, {c:String}) GROUP BY source, source_id',
        { c: traffic.companyPrefix });
      const [openedTwice] = await storage.query<{ n: string }>(
        "SELECT count() AS n FROM (SELECT ticket_id FROM ticket_changes WHERE action = 'opened' AND startsWith(enterprise_id, {c:String}) GROUP BY ticket_id HAVING uniqExact(at) > 1)",
        { c: traffic.companyPrefix });
      const ticketExamples: string[] = [];
      let tickets = 0;
      let dupTickets = 0;
      let otherTickets = 0;
      for (const t of ticketRows) {
        if (t.source === 'complaint' && expect.complaints.has(t.source_id)) {
          tickets++;
          if (Number(t.n) > 1) (dupTickets++, ticketExamples.push(`${t.source_id} ×${t.n}`));
        } else (otherTickets++, ticketExamples.length < 5 && ticketExamples.push(`unexpected ${t.source} ${t.source_id}`));
      }

      // The feed: each alert raised exactly once in the journal every API process follows.
      const raised = new Map<string, number>();
      const stream = feedStream(options.redisPrefix);
      for (let after = '-'; ;) {
        const page = await redis.xrange(stream, after, '+', 'COUNT', 5000);
        for (const [, fields] of page) {
          const m = fields[fields.indexOf('m') + 1];
          if (!m) continue;
          const message = JSON.parse(m) as { action: string; alert: { rule_id: string; enterprise_id: string } };
          if (message.action === 'raised' && message.alert.rule_id === 'no-plan' && expect.triggers.has(message.alert.enterprise_id)) {
            raised.set(message.alert.enterprise_id, (raised.get(message.alert.enterprise_id) ?? 0) + 1);
          }
        }
        if (page.length < 5000) break;
        after = `(${page.at(-1)![0]}`;
      }

      const b = await backlog();
      return {
        events: {
          expected: expect.rows.size, storedOnce, missing: missingRows, duplicated: duplicatedRows, unexpected: unexpectedRows,
          rawRows: Number(raw?.n ?? 0), finalRows, examples: onceRows === expect.rowCount ? [] : examples,
        },
        alerts: { expected: expect.triggers.size, found, duplicated: dupAlerts, unexpected: otherAlerts, examples: alertExamples },
        tickets: {
          expected: expect.complaints.size, found: tickets, duplicated: dupTickets, openedTwice: Number(openedTwice?.n ?? 0), unexpected: otherTickets,
          examples: ticketExamples,
        },
        feed: {
          expected: expect.triggers.size,
          raisedOnce: [...raised.values()].filter((n) => n === 1).length,
          duplicated: [...raised.values()].filter((n) => n > 1).length,
        },
        failedJobs: b.failed,
      };
    },

    async close() {
      for (const q of queues) await q.close().catch(() => {});
      redis.disconnect();
      await storage.close();
    },
  };
}
