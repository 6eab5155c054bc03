import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withHolidayCalendar } from '../src/calendar/index.js';
import { Event } from '../src/ingest/schema.js';
import { createLogger } from '../src/log.js';
import { createMetrics, type Metrics } from '../src/metrics/index.js';
import { createHistories, historyVersionsKey, type Histories } from '../src/pipeline/histories.js';
import { changesOf, engineRows } from '../src/pipeline/store-worker.js';
import { warmEvaluation } from '../src/pipeline/warm.js';
import { createAlertMemory, createAlertStore } from '../src/alerts/index.js';
import { createReferenceFacts, createReferenceStore } from '../src/reference/index.js';
import { createLocks } from '../src/redis/lock.js';
import type { Change } from '../src/queues/index.js';
import { readEvents } from '../src/rules/context.js';
import { contextNeeds, evaluateCompany, mergeNeeds } from '../src/rules/engine.js';
import { companyOf } from '../src/rules/company.js';
import type { EngineEvent } from '../src/rules/events.js';
import { createRuleRegistry, type RuleRegistry } from '../src/rules/registry.js';
import type { Storage } from '../src/storage/index.js';
import { eventRows, insertEvents, type Spans } from '../src/storage/tables/events.js';
import { checkin, complaint, creditCode, evaluation, inspection, plan } from './support/fixtures.js';
import { startTestService, type TestService } from './support/service.js';

/**
 * The evaluating process's memory of companies' events (src/pipeline/histories.ts) against the cold path: the
 * same companies and spans read from the real embedded engine with `readEvents`, counts kept in the real Redis.
 * Rows are stored as the store worker stores them (insert, then count) by one of three processes: two that read,
 * one of which forgets companies between reads, and a third that only stores.
 */
let service: TestService;
let redis: Redis;
let registry: RuleRegistry;
let metrics: Metrics;
let serial = 72_000;
let prefixes = 0;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  redis = new Redis(service.redisUrl);
  registry = await createRuleRegistry(service.config.RULES_DIR, createLogger('silent'));
  metrics = createMetrics({ role: 'worker', version: 'test' });
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await service?.dispose();
});

const DAY = 86_400_000;
const FIRST_DAY = Date.parse('2026-10-01T00:00:00+08:00');
const at = (minute: number) => new Date(FIRST_DAY + minute * 60_000).toISOString();

/** Stores events as the store worker does and returns the changes its job would carry. */
async function store(by: Histories, inputs: readonly Record<string, unknown>[]): Promise<Change[]> {
  const rows = inputs.flatMap((input) => eventRows(Event.parse(input), new Date().toISOString()));
  const byCompany = engineRows(rows);
  await insertEvents(service.storage, rows);
  await by.stored(byCompany);
  return changesOf(byCompany);
}

// Each process has its own connection, as separate processes do; all are closed after each test.
const connections: Redis[] = [];
afterEach(() => {
  for (const connection of connections.splice(0)) connection.disconnect();
});

function world() {
  const companies = [0, 1, 2].map(() => creditCode('371402', ++serial));
  const prefix = `qj-histories-${process.pid}-${++prefixes}`;
  const evaluating = (maxEvents: number) => {
    const connection = new Redis(service.redisUrl);
    connections.push(connection);
    return Object.assign(createHistories({ storage: service.storage, redis: connection, prefix, maxEvents, metrics }), { connection });
  };
  return { companies, prefix, process: evaluating };
}

/** What the engine decides for each company from these events: the same input must give the same alerts. */
function decisions(companies: readonly string[], events: Map<string, EngineEvent[]>, now: number) {
  const { rules, calendar } = registry.current();
  const naming = { agencyName: (id: string) => id };
  return companies.map((id) => withHolidayCalendar(calendar, () =>
    evaluateCompany(rules, { company: companyOf(id, new Map(), events), events: events.get(id) ?? [], changed: null, now, naming }).candidates));
}

const eventOf = (companies: readonly string[]) => fc.record({
  kind: fc.constantFrom('checkin-enter', 'checkin-exit', 'inspection', 'plan', 'complaint', 'evaluation'),
  company: fc.nat(2),
  minute: fc.nat(40 * 24 * 60),
  offsite: fc.boolean(),
}).map(({ kind, company, minute, offsite }) => {
  const enterprise_id = companies[company]!;
  const occurred_at = at(minute);
  switch (kind) {
    case 'checkin-enter': return checkin({ enterprise_id, occurred_at, onsite: !offsite });
    case 'checkin-exit': return checkin({ enterprise_id, occurred_at, action: 'exit' });
    case 'inspection': return inspection({ enterprise_id, occurred_at, started_at: at(minute - 90), ended_at: occurred_at, onsite: !offsite });
    case 'plan': {
      const day = new Date(FIRST_DAY + 8 * 3_600_000 + minute * 60_000 + 7 * DAY).toISOString().slice(0, 10);
      return plan({ enterprise_ids: offsite ? [enterprise_id] : companies, occurred_at, window_start: day, window_end: day });
    }
    case 'complaint': return complaint({ enterprise_id, occurred_at });
    default: return evaluation({ enterprise_id, occurred_at, score: offsite ? 40 : 95 });
  }
});

const spansOf = fc.array(fc.record({
  type: fc.constantFrom(null, 'checkin', 'inspection', 'plan', 'complaint', 'evaluation'),
  from: fc.integer({ min: -5, max: 45 }),
  days: fc.integer({ min: 0, max: 30 }),
}), { minLength: 1, maxLength: 3 }).map((picked) => new Map(picked.map(({ type, from, days }) =>
  [type, { from: FIRST_DAY + from * DAY, to: FIRST_DAY + (from + days) * DAY }])) as Spans);

type Step =
  | { op: 'store'; events: Record<string, unknown>[]; by: 0 | 1 | 2 }
  | { op: 'resend'; pick: number; by: 0 | 1 | 2 }
  /** The same id sent again with a later time: the table keeps both rows (its key is the time and the id), and so must memory. */
  | { op: 'amend'; pick: number; minutes: number; by: 0 | 1 | 2 }
  | { op: 'read'; by: 0 | 1; who: number[]; spans: Spans | 'needs' };

const stepsOf = (companies: readonly string[]) => fc.array(fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('store' as const), events: fc.array(eventOf(companies), { minLength: 1, maxLength: 4 }), by: fc.constantFrom(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('resend' as const), pick: fc.nat(), by: fc.constantFrom(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('amend' as const), pick: fc.nat(), minutes: fc.integer({ min: 1, max: 120 }), by: fc.constantFrom(0, 1, 2) }) },
  { weight: 4, arbitrary: fc.record({
    op: fc.constant('read' as const), by: fc.constantFrom(0, 1),
    who: fc.uniqueArray(fc.nat(2), { minLength: 1, maxLength: 3 }), spans: fc.oneof(spansOf, fc.constant('needs' as const)),
  }) },
), { minLength: 4, maxLength: 24 }) as fc.Arbitrary<Step[]>;

describe('the evaluating process\'s memory of companies\' events', () => {
  it('answers every read exactly as ClickHouse does, and the engine decides the same alerts from either', async () => {
    let fromMemory = 0;
    await fc.assert(fc.asyncProperty(fc.constant(null).chain(() => {
      const w = world();
      return fc.record({ w: fc.constant(w), steps: stepsOf(w.companies), small: fc.integer({ min: 1, max: 12 }) });
    }), async ({ w, steps, small }) => {
      // The second process remembers few events: it forgets companies between reads. The third only stores.
      const processes: Histories[] = [w.process(10_000), w.process(small), w.process(10_000)];
      let recent: Change[] = [];
      const sent: Record<string, unknown>[] = [];
      for (const step of steps) {
        if (step.op === 'store' || step.op === 'resend' || step.op === 'amend') {
          const picked = step.op !== 'store' && sent.length > 0 ? sent[step.pick % sent.length]! : null;
          const events = step.op === 'store' ? step.events : !picked ? []
            : step.op === 'resend' ? [picked] : [{ ...picked, occurred_at: new Date(Date.parse(picked.occurred_at as string) + step.minutes * 60_000).toISOString() }];
          if (events.length === 0) continue;
          sent.push(...events);
          recent = await store(processes[step.by]!, events);
          continue;
        }
        const ids = step.who.map((i) => w.companies[i]!);
        // 'needs': what an evaluation of the last stored batch's changes for these companies would ask for.
        const spans = step.spans !== 'needs' ? step.spans : needsOf(recent.filter((c) => ids.includes(c.enterprise_id)));
        const before = await metricValue('memory');
        const remembered = await processes[step.by]!.read(ids, spans);
        fromMemory += (await metricValue('memory')) - before;
        const cold = await readEvents(service.storage, ids, spans);
        expect(plain(remembered)).toEqual(plain(cold));
        const now = FIRST_DAY + 50 * DAY;
        expect(decisions(ids, remembered, now)).toEqual(decisions(ids, cold, now));
      }
    }), { numRuns: 100 });
    // The property would hold trivially if every read went to storage.
    expect(fromMemory).toBeGreaterThan(20);
  }, 240_000);

  it('reads a company from storage once another process stored a batch of it, then from memory again', async () => {
    const w = world();
    const [a] = w.companies;
    const [one, other] = [w.process(1_000), w.process(1_000)];
    const spans: Spans = new Map([[null, { from: FIRST_DAY, to: FIRST_DAY + 30 * DAY }]]);
    await store(other, [checkin({ enterprise_id: a, occurred_at: at(600) })]);
    expect(await sources(() => one.read([a!], spans))).toEqual({ memory: 0, storage: 1 });
    expect(await sources(() => one.read([a!], spans))).toEqual({ memory: 1, storage: 0 });

    // Stored elsewhere: this process never saw the rows, and must not answer from what it holds.
    await store(other, [checkin({ enterprise_id: a, occurred_at: at(700), action: 'exit' })]);
    let read = new Map<string, EngineEvent[]>();
    expect(await sources(async () => (read = await one.read([a!], spans)))).toEqual({ memory: 0, storage: 1 });
    expect(read.get(a!)?.map((e) => e.action)).toEqual(['enter', 'exit']);

    // Stored by this process: its rows are added to what it holds, nothing is read.
    await store(one, [inspection({ enterprise_id: a, occurred_at: at(800), started_at: at(610), ended_at: at(800) })]);
    expect(await sources(async () => (read = await one.read([a!], spans)))).toEqual({ memory: 1, storage: 0 });
    expect(read.get(a!)?.map((e) => e.type)).toEqual(['checkin', 'checkin', 'inspection']);
  });

  it('holds a company\'s whole history once read, remembers what its own store worker stored, and forgets everything when Redis lost the counts', async () => {
    const w = world();
    const [a] = w.companies;
    const [one, other] = [w.process(1_000), w.process(1_000)];
    const recent: Spans = new Map([['checkin', { from: FIRST_DAY + 20 * DAY, to: FIRST_DAY + 30 * DAY }]]);
    await store(other, [checkin({ enterprise_id: a, occurred_at: at(10) }), checkin({ enterprise_id: a, occurred_at: at(25 * 24 * 60) })]);
    expect(await sources(() => one.read([a!], recent))).toEqual({ memory: 0, storage: 1 });
    // A read takes the whole history: a month earlier, and years later, are answered from memory.
    let early = new Map<string, EngineEvent[]>();
    const month: Spans = new Map([['checkin', { from: FIRST_DAY, to: FIRST_DAY + 30 * DAY }]]);
    expect(await sources(async () => (early = await one.read([a!], month)))).toEqual({ memory: 1, storage: 0 });
    expect(early.get(a!)?.map((e) => e.occurred_at)).toEqual([Date.parse(at(10)), Date.parse(at(25 * 24 * 60))]);
    expect(await sources(() => one.read([a!], new Map([[null, { from: FIRST_DAY + 400 * DAY, to: FIRST_DAY + 800 * DAY }]])))).toEqual({ memory: 1, storage: 0 });
    // Every type: a plan in the span is answered from memory.
    const plans: Spans = new Map([['plan', { from: FIRST_DAY + 20 * DAY, to: FIRST_DAY + 30 * DAY }]]);
    expect(await sources(() => one.read([a!], plans))).toEqual({ memory: 1, storage: 0 });
    await store(one, [plan({ enterprise_ids: [a], occurred_at: at(24 * 24 * 60), window_start: '2026-10-28', window_end: '2026-10-28' })]);
    let read = new Map<string, EngineEvent[]>();
    expect(await sources(async () => (read = await one.read([a!], plans)))).toEqual({ memory: 1, storage: 0 });
    expect(plain(read)).toEqual(plain(await readEvents(service.storage, [a!], plans)));
    expect(read.get(a!)?.map((e) => e.type)).toEqual(['plan']);

    // A Redis that lost the hash counts from zero again: the same count must not vouch for a memory of before.
    expect(await redis.hget(historyVersionsKey(w.prefix), a!)).toBe('2');
    await redis.del(historyVersionsKey(w.prefix));
    await store(other, [checkin({ enterprise_id: a, occurred_at: at(26 * 24 * 60), action: 'exit' })]);
    await store(other, [checkin({ enterprise_id: a, occurred_at: at(27 * 24 * 60) })]);
    expect(await redis.hget(historyVersionsKey(w.prefix), a!)).toBe('2');
    expect(await sources(async () => (read = await one.read([a!], recent)))).toEqual({ memory: 0, storage: 1 });
    expect(read.get(a!)?.map((e) => e.action)).toEqual(['enter', 'exit', 'enter']);
  });
});

describe('a Redis that restarted', () => {
  it('makes every process forget what it remembered: the last counts may be lost, and a count that went back would vouch for old memory', async () => {
    const w = world();
    const [a] = w.companies;
    const one = w.process(1_000);
    const spans: Spans = new Map([[null, { from: FIRST_DAY, to: FIRST_DAY + 30 * DAY }]]);
    await store(one, [checkin({ enterprise_id: a, occurred_at: at(100) })]);
    await one.read([a!], spans);
    await store(one, [checkin({ enterprise_id: a, occurred_at: at(200), action: 'exit' })]);
    expect(await sources(() => one.read([a!], spans))).toEqual({ memory: 1, storage: 0 });
    // As a restart that lost the last second of the append-only file: the second batch's count is gone, its rows are
    // in ClickHouse, and another process stores a third batch, which brings the count back to where memory is.
    await redis.hset(historyVersionsKey(w.prefix), a!, '1');
    one.connection.disconnect(true);
    await store(w.process(1_000), [checkin({ enterprise_id: a, occurred_at: at(300) })]);
    expect(await redis.hget(historyVersionsKey(w.prefix), a!)).toBe('2');
    let read = new Map<string, EngineEvent[]>();
    expect(await sources(async () => (read = await one.read([a!], spans)))).toEqual({ memory: 0, storage: 1 });
    expect(read.get(a!)?.map((e) => e.action)).toEqual(['enter', 'exit', 'enter']);
  });
});

describe('warming the memory at start', () => {
  it('reads the companies stored to last, as many as memory holds, so that their first evaluation reads nothing', async () => {
    const w = world();
    const mine = w.process(1_000_000);
    const [a, b, c] = w.companies;
    // Stored by a process that counts nothing, as rows stored before this version were.
    const rows = [checkin({ enterprise_id: a, occurred_at: at(100) }), checkin({ enterprise_id: b, occurred_at: at(200) }),
      checkin({ enterprise_id: c, occurred_at: at(300) }), inspection({ enterprise_id: c, occurred_at: at(400), started_at: at(300), ended_at: at(400) })]
      .flatMap((input) => eventRows(Event.parse(input), new Date().toISOString()));
    for (const row of rows) await insertEvents(service.storage, [row]);
    const alerts = createAlertStore(service.storage, createLocks(redis, w.prefix), createAlertMemory(redis, w.prefix, 1_000));
    const facts = createReferenceFacts(redis, service.storage, w.prefix);
    // 3 events: c (2 events, stored last) and b (1) fit, a does not.
    const report = await warmEvaluation({ storage: service.storage, histories: mine, alerts, facts, maxEvents: 3, chunk: 1 });
    expect(report).toMatchObject({ companies: 2, events: 3 });
    // The first batch counted anywhere must not make the warmed memory forgotten (the epoch was set by warming).
    await store(w.process(1_000), [checkin({ enterprise_id: a, occurred_at: at(500) })]);
    const spans: Spans = new Map([[null, { from: FIRST_DAY, to: FIRST_DAY + 30 * DAY }]]);
    expect(await sources(() => mine.read([b!, c!], spans))).toEqual({ memory: 2, storage: 0 });
    expect(await sources(() => mine.read([a!], spans))).toEqual({ memory: 0, storage: 1 });
  });
});

describe('warming facts and alerts', () => {
  it('reads the facts and alerts of every registered or active company, beyond the companies events memory holds', async () => {
    const w = world();
    const [a, b, c] = w.companies;
    // a and b have events, b's stored last; c is registered only.
    for (const input of [checkin({ enterprise_id: a, occurred_at: at(100) }), checkin({ enterprise_id: b, occurred_at: at(200) })]) {
      await insertEvents(service.storage, eventRows(Event.parse(input), new Date().toISOString()));
    }
    await createReferenceStore(service.storage).upsertEnterprises([{ enterprise_id: c!, name: '仅登记企业', region: '371402', credit_grade: 'B', whitelisted: false }]);
    const queries: string[] = [];
    const counting: Storage = { ...service.storage, query: (sql, params) => (queries.push(sql), service.storage.query(sql, params)) };
    const facts = createReferenceFacts(redis, counting, w.prefix);
    const alerts = createAlertStore(counting, createLocks(redis, w.prefix), createAlertMemory(redis, w.prefix, 1_000));
    // Events memory for one event: b's only.
    const report = await warmEvaluation({ storage: service.storage, histories: w.process(1), alerts, facts, maxEvents: 1, chunk: 1 });
    expect(report).toMatchObject({ companies: 1, events: 1 });
    expect(report.facts).toBeGreaterThanOrEqual(3);
    queries.length = 0;
    expect((await facts.companies([a!, b!, c!])).get(c!)).toMatchObject({ name: '仅登记企业', region: '371402' });
    expect(await alerts.forEnterprises([a!, b!, c!])).toEqual(new Map());
    expect(queries).toEqual([]);

    // With room for ten, a tenth goes to registered companies without events: c's (none) is then known.
    const roomier = w.process(10);
    await warmEvaluation({ storage: service.storage, histories: roomier, alerts, facts, maxEvents: 10, chunk: 1 });
    const spans: Spans = new Map([[null, { from: FIRST_DAY, to: FIRST_DAY + 30 * DAY }]]);
    expect(await sources(() => roomier.read([c!], spans))).toEqual({ memory: 1, storage: 0 });
  });
});

function needsOf(arrived: readonly Change[]): Spans {
  const { rules, calendar } = registry.current();
  // Without new rows, a deferred decision's needs: anything may have changed on that day.
  const changed = arrived.length > 0 ? arrived : [{ from: FIRST_DAY + 20 * DAY, to: FIRST_DAY + 20 * DAY }];
  return withHolidayCalendar(calendar, () => mergeNeeds(changed.flatMap((c) => contextNeeds(rules, '371402', c))));
}

/** Events without object identity, so that memory's and ClickHouse's answers compare field by field. */
const plain = (byCompany: Map<string, EngineEvent[]>) => JSON.parse(JSON.stringify([...byCompany].sort(([a], [b]) => (a < b ? -1 : 1))));

async function metricValue(from: 'memory' | 'storage'): Promise<number> {
  const { values } = await metrics.historyReads.get();
  return values.find((v) => v.labels.from === from)?.value ?? 0;
}

/** How many companies a read took from memory and from storage. */
async function sources(read: () => Promise<unknown>): Promise<{ memory: number; storage: number }> {
  const [memory, storage] = [await metricValue('memory'), await metricValue('storage')];
  await read();
  return { memory: (await metricValue('memory')) - memory, storage: (await metricValue('storage')) - storage };
}
