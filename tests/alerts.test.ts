import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { acknowledge, reconcile, reopen, resolve, TransitionError, type Revision, type Scope } from '../src/alerts/lifecycle.js';
import { RESOLUTION_CODES, type Alert, type AlertCandidate } from '../src/alerts/model.js';
import { alertCountsKey, createAlertMemory, createAlertStore, enterpriseLock, type AlertStore } from '../src/alerts/store.js';
import { createLocks, LeaseLostError, LockTimeoutError, type Locks } from '../src/redis/lock.js';
import { checkin, creditCode, inspection, plan } from './support/fixtures.js';
import { eventually, get, post, startTestService, type TestService } from './support/service.js';

/**
 * Alerts end to end on real parts: the store against the embedded ClickHouse,
 * locks against a real redis-server, the routes over HTTP. The rule engine
 * does not exist yet, so the tests play it: candidates → reconcile → save,
 * under the same company locks the engine will take.
 */
let service: TestService;
let redis: Redis;
let locks: Locks;
let store: AlertStore;

beforeAll(async () => {
  service = await startTestService();
  redis = new Redis(service.redisUrl);
  locks = createLocks(redis, service.config.REDIS_PREFIX);
  // Remembers nothing: every read below goes to the engine (the memory has its own tests at the end).
  store = createAlertStore(service.storage, locks, createAlertMemory(redis, service.config.REDIS_PREFIX, 0));
  // Without background merges every revision stays a row of its own, so only reads that fold (FINAL) pass.
  for (const table of ['alerts', 'alert_changes']) await service.storage.command(`SYSTEM STOP MERGES ${table}`);
});
afterAll(async () => {
  redis?.disconnect();
  await service?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lockKey = (name: string) => `${service.config.REDIS_PREFIX}:lock:${name}`;
const alertUrl = (id: string) => `${service.url}/v1/alerts/${encodeURIComponent(id)}`;

let serial = 0;
/** A candidate as the engine would conclude it; each call is a new fingerprint and company. */
function candidate(overrides: Partial<AlertCandidate> = {}): AlertCandidate {
  const n = ++serial;
  return {
    fingerprint: `fp-${process.pid}-${n}`,
    rule_id: 'frequent_visits',
    rule_version: 3,
    variant: '',
    severity: 'medium',
    mode: 'active',
    channels: ['feed', 'hotline'],
    title: { zh: '同一企业年度检查过频', en: 'Too many inspections of one company this year' },
    message: { zh: '市场监管局今年已第 5 次入企检查（上限 4 次）', en: '5th inspection this year (limit 4)' },
    region: '371402',
    enterprise_id: creditCode('371402', 1_000 + n),
    agency_id: '371400-SCJG',
    officer_ids: ['371400-SCJG-001', '371400-SCJG-002'],
    window_start: '2025-12-31T16:00:00.000Z',
    window_end: '2026-12-31T16:00:00.000Z',
    anchor_at: '2026-03-02T01:30:00.000Z',
    first_seen_at: '2026-03-02T01:30:00.000Z',
    last_seen_at: '2026-03-02T01:30:00.000Z',
    count: 5,
    evidence: [
      { event_id: `ci-${n}-1`, type: 'checkin', occurred_at: '2026-01-05T02:00:00.000Z', role: 'counted' },
      { event_id: `ci-${n}-5`, type: 'checkin', occurred_at: '2026-03-02T01:30:00.000Z', role: 'trigger' },
    ],
    figures: { visits: 5, threshold: 4, ratio: 1.25, joint: false, plan_id: null, agency: '市场监管局' },
    params: { max_visits_per_year: 4, exempt_grades: ['A'], nested: { days: [-3, -2, -1] } },
    ...overrides,
  };
}

/** Plays the engine: under the companies' locks, read their alerts, reconcile, save. */
async function evaluate(candidates: AlertCandidate[], scopes: Scope[] = [], reason = 'late evidence'): Promise<Revision[]> {
  const touched = [...candidates, ...scopes];
  const companies = [...new Set(touched.map((x) => x.enterprise_id))];
  return locks.withLocks(companies.map(enterpriseLock), async () => {
    const stored = await store.forEnterprises(companies);
    const revisions = reconcile(stored, candidates, scopes, new Date(), reason);
    await store.save(revisions);
    return revisions;
  });
}

const scopeOf = (c: AlertCandidate, from: string, to: string): Scope =>
  ({ rule_id: c.rule_id, enterprise_id: c.enterprise_id, from: Date.parse(from), to: Date.parse(to) });

/** Rows written for an alert, before ReplacingMergeTree folds them: proves what was (not) written. */
async function rowsWritten(id: string): Promise<number> {
  const [row] = await service.storage.query<{ n: string }>('SELECT count() AS n FROM alerts WHERE id = {id:String}', { id });
  return Number(row!.n);
}

const actions = async (id: string) => (await store.history(id)).map((h) => h.action);

describe('alert store', () => {
  it('reads an alert back deep-equal to what was saved', async () => {
    const c = candidate();
    const [raised] = await evaluate([c]);
    expect(raised!.change).toMatchObject({ action: 'raised', revision: 1, actor: 'system', from_status: '', to_status: 'open' });
    expect(await store.get(c.fingerprint)).toStrictEqual(raised!.alert);
    expect(await store.byIds([c.fingerprint, 'no-such-alert'])).toStrictEqual(new Map([[c.fingerprint, raised!.alert]]));
    expect(await store.forEnterprises([c.enterprise_id])).toStrictEqual(new Map([[c.fingerprint, raised!.alert]]));
    expect(await store.history(c.fingerprint)).toStrictEqual([raised!.change]);
  });

  it('round-trips the person-set fields too (acknowledged_at, resolved_at, notes)', async () => {
    const c = candidate();
    await evaluate([c]);
    await store.act(c.fingerprint, (a) => acknowledge(a, '李伟', '已联系', new Date()));
    const resolved = await store.act(c.fingerprint, (a) => resolve(a, 'confirmed', '李伟', '属实，已转纪检', new Date()));
    expect(resolved).toMatchObject({ status: 'resolved', acknowledged_by: '李伟', resolution: 'confirmed', revision: 3 });
    expect(resolved!.acknowledged_at).not.toBeNull();
    expect(await store.get(c.fingerprint)).toStrictEqual(resolved);
  });

  it('saves no action whose holder stalled past the company lock\'s TTL (2 s): another holder may have the company by then', async () => {
    const c = candidate();
    await evaluate([c]);
    const stalled = store.act(c.fingerprint, (a) => {
      // A blocked event loop: no renewal runs, and the lock may lapse to someone else meanwhile.
      const until = Date.now() + 2_200;
      while (Date.now() < until);
      return acknowledge(a, '李伟', '已联系', new Date());
    });
    await expect(stalled).rejects.toThrow(LeaseLostError);
    expect(await store.get(c.fingerprint)).toMatchObject({ status: 'open', revision: 1, acknowledged_by: '' });
    // The same action without the stall is saved.
    expect(await store.act(c.fingerprint, (a) => acknowledge(a, '李伟', '已联系', new Date()))).toMatchObject({ status: 'acknowledged', revision: 2 });
  });

  it('folds a retried save of the same revisions', async () => {
    const c = candidate();
    const revisions = reconcile(new Map(), [c], [], new Date(), '');
    await store.save(revisions);
    await store.save(revisions);
    expect(await store.history(c.fingerprint)).toStrictEqual([revisions[0]!.change]);
    const listed = await get(`${service.url}/v1/alerts?enterprise=${c.enterprise_id}`);
    expect(listed.body.items).toStrictEqual([revisions[0]!.alert]);
  });

  it('writes nothing when the same conclusions are saved again', async () => {
    const c = candidate();
    expect(await evaluate([c])).toHaveLength(1);
    expect(await evaluate([c])).toEqual([]);
    expect(await evaluate([{ ...c, evidence: [...c.evidence].reverse() }])).toEqual([]);
    expect((await store.get(c.fingerprint))!.revision).toBe(1);
    expect(await rowsWritten(c.fingerprint)).toBe(1);
    expect(await actions(c.fingerprint)).toEqual(['raised']);
  });

  it('updates one record with a higher revision when the evidence changes', async () => {
    const c = candidate();
    await evaluate([c]);
    const sixth = { event_id: `${c.fingerprint}-6`, type: 'checkin', occurred_at: '2026-04-01T02:00:00.000Z', role: 'counted' };
    const more = { ...c, count: 6, last_seen_at: sixth.occurred_at, evidence: [...c.evidence, sixth], figures: { ...c.figures, visits: 6 } };
    const [updated] = await evaluate([more]);
    expect(updated!.change).toMatchObject({ action: 'updated', revision: 2, from_status: 'open', to_status: 'open' });
    const stored = await store.forEnterprises([c.enterprise_id]);
    expect([...stored.values()]).toStrictEqual([updated!.alert]);
    expect(updated!.alert).toMatchObject({ count: 6, revision: 2, last_seen_at: sixth.occurred_at, raised_at: (await store.history(c.fingerprint))[0]!.at });
    expect(await actions(c.fingerprint)).toEqual(['raised', 'updated']);
  });

  it("keeps a person's acknowledgement when the engine updates the alert", async () => {
    const c = candidate();
    await evaluate([c]);
    await store.act(c.fingerprint, (a) => acknowledge(a, 'li.wei', '', new Date()));
    await evaluate([{ ...c, count: 6 }]);
    expect(await store.get(c.fingerprint)).toMatchObject({ status: 'acknowledged', acknowledged_by: 'li.wei', count: 6, revision: 3 });
  });

  it('clears an alert whose evidence disappeared in the evaluated scope, and raises it again', async () => {
    const march = candidate({ anchor_at: '2026-03-02T01:30:00.000Z' });
    const may = candidate({ enterprise_id: march.enterprise_id, anchor_at: '2026-05-02T01:30:00.000Z' });
    await evaluate([march, may]);
    const scope = scopeOf(march, '2026-02-28T16:00:00Z', '2026-03-31T16:00:00Z');

    const cleared = await evaluate([], [scope], 'inspection record withdrawn');
    expect(cleared.map((r) => [r.alert.id, r.change.action])).toEqual([[march.fingerprint, 'cleared']]);
    expect(await store.get(march.fingerprint)).toMatchObject({
      status: 'resolved', resolution: 'cleared', resolved_by: 'system', resolution_note: 'inspection record withdrawn', revision: 2,
    });
    expect(await store.get(may.fingerprint)).toMatchObject({ status: 'open', revision: 1 });
    expect(await evaluate([], [scope])).toEqual([]);

    const [reraised] = await evaluate([march], [scope], 'record restored');
    expect(reraised!.change).toMatchObject({ action: 'reraised', from_status: 'resolved', to_status: 'open', note: 'record restored' });
    expect(await store.get(march.fingerprint)).toMatchObject({ status: 'open', resolution: '', resolved_by: '', resolved_at: null, revision: 3 });
    expect(await actions(march.fingerprint)).toEqual(['raised', 'cleared', 'reraised']);
  });
});

describe('GET /v1/alerts', () => {
  const agencyA = '371400-GAJ';
  const agencyB = '370600-SCJG';
  const shared = creditCode('370602', 77);
  let fixtures: Alert[] = [];

  // Around midnight in Shanghai: 2026-05-01T16:00Z is 2026-05-02 00:00 (+08:00).
  beforeAll(async () => {
    const at = (t: string) => ({ first_seen_at: t, last_seen_at: t, anchor_at: t });
    const candidates = [
      candidate({ rule_id: 'no_scan', severity: 'high', region: '371402', agency_id: agencyA, ...at('2026-05-01T15:59:59.999Z') }),
      candidate({ rule_id: 'no_scan', severity: 'low', region: '371428', agency_id: agencyB, ...at('2026-05-01T16:00:00.000Z') }),
      candidate({ rule_id: 'quiet_period', severity: 'high', region: '370602', enterprise_id: shared, mode: 'shadow', variant: 'late_plan', ...at('2026-05-01T16:00:00.000Z') }),
      candidate({ rule_id: 'quiet_period', severity: 'critical', region: '370602', enterprise_id: shared, ...at('2026-05-02T04:00:00.000Z') }),
      candidate({ rule_id: 'frequent_visits', severity: 'info', region: '350302', agency_id: agencyB, ...at('2026-04-30T02:00:00.000Z') }),
      candidate({ rule_id: 'frequent_visits', severity: 'medium', region: '371402', variant: 'manual_checkin', ...at('2026-05-03T02:00:00.000Z') }),
    ];
    await evaluate(candidates);
    await store.act(candidates[1]!.fingerprint, (a) => acknowledge(a, 'li.wei', '', new Date()));
    await store.act(candidates[4]!.fingerprint, (a) => resolve(a, 'false_positive', 'li.wei', '', new Date()));
    fixtures = [...(await store.byIds(candidates.map((c) => c.fingerprint))).values()];
    expect(fixtures).toHaveLength(candidates.length);
  });

  /** Every page of a query, following next_cursor. */
  async function listAll(query: Record<string, string>, limit = 1000): Promise<Alert[]> {
    const items: Alert[] = [];
    let cursor: string | null = null;
    do {
      const qs = new URLSearchParams({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
      const res = await get(`${service.url}/v1/alerts?${qs}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    return items;
  }

  const filters: Array<[string, Record<string, string>, (a: Alert) => boolean]> = [
    ['rule', { rule: 'no_scan' }, (a) => a.rule_id === 'no_scan'],
    ['severity', { severity: 'high' }, (a) => a.severity === 'high'],
    ['status open (current state, not an older revision)', { status: 'open' }, (a) => a.status === 'open'],
    ['status acknowledged', { status: 'acknowledged' }, (a) => a.status === 'acknowledged'],
    ['mode', { mode: 'shadow' }, (a) => a.mode === 'shadow'],
    ['region prefix (city)', { region: '3714' }, (a) => a.region.startsWith('3714')],
    ['region prefix (province)', { region: '37' }, (a) => a.region.startsWith('37')],
    ['region (county)', { region: '371428' }, (a) => a.region === '371428'],
    ['agency', { agency: agencyB }, (a) => a.agency_id === agencyB],
    ['enterprise', { enterprise: shared }, (a) => a.enterprise_id === shared],
    ['variant', { variant: 'late_plan' }, (a) => a.variant === 'late_plan'],
    ["variant '' (main alerts)", { variant: '' }, (a) => a.variant === ''],
    ['from a bare date (Shanghai midnight)', { from: '2026-05-02' }, (a) => a.first_seen_at >= '2026-05-01T16:00:00.000Z'],
    ['to a bare date (exclusive)', { to: '2026-05-02' }, (a) => a.first_seen_at < '2026-05-01T16:00:00.000Z'],
    ['from and to in RFC 3339', { from: '2026-05-02T00:00:00+08:00', to: '2026-05-02T12:00:00.001+08:00' },
      (a) => a.first_seen_at >= '2026-05-01T16:00:00.000Z' && a.first_seen_at <= '2026-05-02T04:00:00.000Z'],
  ];

  it.each(filters)('filters by %s', async (_name, query, matches) => {
    const items = await listAll(query);
    expect(items.filter((a) => !matches(a)), 'items that do not match').toEqual([]);
    const expected = fixtures.filter(matches).map((a) => a.id).sort();
    expect(expected.length, 'the filter keeps some fixtures').toBeGreaterThan(0);
    expect(expected.length, 'the filter drops some fixtures').toBeLessThan(fixtures.length);
    const fixtureIds = new Set(fixtures.map((a) => a.id));
    expect(items.filter((a) => fixtureIds.has(a.id)).map((a) => a.id).sort()).toEqual(expected);
  });

  it('combines filters', async () => {
    const items = await listAll({ rule: 'quiet_period', severity: 'critical' });
    expect(items.map((a) => a.id)).toEqual([fixtures.find((a) => a.severity === 'critical')!.id]);
  });

  it('pages newest first through every alert exactly once', async () => {
    const [{ n }] = await service.storage.query<{ n: string }>('SELECT count() AS n FROM alerts FINAL') as [{ n: string }];
    const paged = await listAll({}, 2);
    expect(paged.length).toBe(Number(n));
    expect(new Set(paged.map((a) => a.id)).size).toBe(paged.length);
    for (let i = 1; i < paged.length; i++) {
      const [prev, cur] = [paged[i - 1]!, paged[i]!];
      const descending = prev.first_seen_at > cur.first_seen_at || (prev.first_seen_at === cur.first_seen_at && prev.id > cur.id);
      expect(descending, `${prev.id} before ${cur.id}`).toBe(true);
    }
    expect((await listAll({})).map((a) => a.id)).toEqual(paged.map((a) => a.id));
    expect(paged.map((a) => a.id)).toEqual(expect.arrayContaining(fixtures.map((a) => a.id)));
  });

  it('defaults to 100 items and reports the end with next_cursor null', async () => {
    const res = await get(`${service.url}/v1/alerts?enterprise=${shared}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.next_cursor).toBeNull();
  });

  it.each([
    ['severity', 'severity=urgent'],
    ['status', 'status=closed'],
    ['region', 'region=37a'],
    ['enterprise', 'enterprise=91371402000000001X'],
    ['from', 'from=yesterday'],
    ['limit', 'limit=1001'],
    ['cursor', 'cursor=not-a-cursor'],
    ['colour', 'colour=red'],
  ])('answers 400 naming %s', async (field, query) => {
    const res = await get(`${service.url}/v1/alerts?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });
});

describe('GET /v1/alerts/:id', () => {
  it('returns the alert with its stored evidence events, in evidence order, and its history', async () => {
    const company = creditCode('371402', 900);
    const visit = checkin({ enterprise_id: company });
    const record = inspection({ enterprise_id: company });
    const filed = plan({ enterprise_ids: [creditCode('371402', 901), company] });
    expect((await post(`${service.url}/v1/events`, [visit, record, filed])).status).toBe(202);
    const ids = [visit.id, record.id, filed.id];
    await eventually(async () => {
      const [row] = await service.storage.query<{ n: string }>('SELECT uniqExact(id) AS n FROM events FINAL WHERE id IN {ids:Array(String)}', { ids });
      return Number(row!.n) === ids.length ? true : undefined;
    }, 20_000, 'evidence events stored');

    const evidence = (e: { id: string; type: string; occurred_at: string }, role: string) =>
      ({ event_id: e.id, type: e.type, occurred_at: new Date(e.occurred_at).toISOString(), role });
    const c = candidate({
      enterprise_id: company,
      evidence: [evidence(record, 'trigger'), evidence(visit, 'counted'), evidence(filed, 'exemption'),
        { event_id: 'never-stored', type: 'checkin', occurred_at: '2026-11-20T01:00:00.000Z', role: 'counted' }],
    });
    const [raised] = await evaluate([c]);

    const res = await get(alertUrl(c.fingerprint));
    expect(res.status).toBe(200);
    const { evidence_events, history, ...alert } = res.body;
    expect(alert).toStrictEqual(raised!.alert);
    expect(history).toStrictEqual([raised!.change]);
    expect(evidence_events.map((e: { role: string; event: { id: string } }) => [e.role, e.event.id])).toEqual([
      ['trigger', record.id], ['counted', visit.id], ['exemption', filed.id],
    ]);
    expect(evidence_events[0].event).toMatchObject(record);
    expect(evidence_events[1].event).toMatchObject(visit);
    expect(evidence_events[2].event).toMatchObject(filed);
  });

  it('answers 404 for an unknown alert', async () => {
    expect(await get(alertUrl('no-such-alert'))).toEqual({ status: 404, body: { error: 'not_found', message: 'no such alert' } });
  });
});

describe('acting on alerts over HTTP', () => {
  it('acknowledges, resolves and reopens, keeping the history, and refuses transitions that do not apply', async () => {
    const c = candidate();
    await evaluate([c]);
    const url = alertUrl(c.fingerprint);

    const reopenOpen = await post(`${url}/reopen`, { actor: 'wang.fang', note: 'why not' });
    expect(reopenOpen).toEqual({ status: 409, body: { error: 'conflict', message: 'alert is open; only a resolved alert can be reopened' } });

    const ack = await post(`${url}/ack`, { actor: 'li.wei', note: '已联系执法大队' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledged_by: 'li.wei', revision: 2 });
    expect(await store.get(c.fingerprint)).toStrictEqual(ack.body);

    const ackAgain = await post(`${url}/ack`, { actor: 'zhang.min' });
    expect(ackAgain).toEqual({ status: 409, body: { error: 'conflict', message: 'alert is acknowledged; only an open alert can be acknowledged' } });

    const resolved = await post(`${url}/resolve`, { actor: 'li.wei', code: 'justified', note: '紧急检查，已补报备' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'justified', resolved_by: 'li.wei', resolution_note: '紧急检查，已补报备', revision: 3 });

    const resolveAgain = await post(`${url}/resolve`, { actor: 'li.wei', code: 'confirmed' });
    expect(resolveAgain).toEqual({ status: 409, body: { error: 'conflict', message: 'alert is already resolved' } });

    const reopened = await post(`${url}/reopen`, { actor: 'wang.fang', note: '补报备日期晚于检查' });
    expect(reopened.status).toBe(200);
    expect(reopened.body).toMatchObject({
      status: 'open', resolution: '', resolved_at: null, acknowledged_by: '', acknowledged_at: null, revision: 4,
    });

    const { body } = await get(url);
    expect(body.history.map((h: Record<string, unknown>) => [h.revision, h.action, h.actor, h.from_status, h.to_status, h.note])).toEqual([
      [1, 'raised', 'system', '', 'open', ''],
      [2, 'acknowledged', 'li.wei', 'open', 'acknowledged', '已联系执法大队'],
      [3, 'resolved', 'li.wei', 'acknowledged', 'resolved', '紧急检查，已补报备'],
      [4, 'reopened', 'wang.fang', 'resolved', 'open', '补报备日期晚于检查'],
    ]);
  });

  it.each([
    ['resolve', { actor: 'li.wei', code: 'fixed' }, 'code'],
    ['resolve', { actor: 'li.wei' }, 'code'],
    ['ack', { actor: '   ' }, 'actor'],
    ['ack', { actor: 'x'.repeat(65) }, 'actor'],
    ['ack', { actor: 42 }, 'actor'],
    ['ack', { actor: 'li.wei', comment: 'typo of note' }, 'comment'],
    ['reopen', { actor: 'li.wei' }, 'note'],
    ['reopen', { actor: 'li.wei', note: '' }, 'note'],
  ])('answers 400 to %s with %j naming %s, changing nothing', async (action, body, field) => {
    const c = candidate();
    await evaluate([c]);
    const res = await post(`${alertUrl(c.fingerprint)}/${action}`, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect((await store.get(c.fingerprint))!.revision).toBe(1);
  });

  it('answers 400 to malformed JSON and 415 to another content type', async () => {
    const c = candidate();
    await evaluate([c]);
    expect((await post(`${alertUrl(c.fingerprint)}/ack`, '{"actor": ', 'application/json')).body).toMatchObject({ error: 'malformed_json' });
    expect((await post(`${alertUrl(c.fingerprint)}/ack`, 'actor=li.wei', 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('answers 404 to an action on an unknown alert', async () => {
    const res = await post(`${alertUrl('no-such-alert')}/ack`, { actor: 'li.wei' });
    expect(res).toEqual({ status: 404, body: { error: 'not_found', message: 'no such alert' } });
  });

  it('documents the alert endpoints in the OpenAPI document', async () => {
    const { body } = await get(`${service.url}/openapi.json`);
    for (const path of ['/v1/alerts', '/v1/alerts/{id}', '/v1/alerts/{id}/ack', '/v1/alerts/{id}/resolve', '/v1/alerts/{id}/reopen']) {
      expect(body.paths, path).toHaveProperty([path]);
    }
    expect(body.components.schemas.ResolveBody.properties.code.enum).toEqual([...RESOLUTION_CODES]);
    expect(body.components.schemas.ReopenBody.required).toEqual(['note']);
  });
});

describe('locks', () => {
  it('lets only one of two concurrent acknowledgements of one alert succeed', async () => {
    const c = candidate();
    await evaluate([c]);
    const results = await Promise.allSettled(['li.wei', 'zhang.min'].map((actor) =>
      store.act(c.fingerprint, (a) => acknowledge(a, actor, '', new Date()))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [failure] = results.filter((r) => r.status === 'rejected');
    expect(failure!.reason).toBeInstanceOf(TransitionError);
    expect(await actions(c.fingerprint)).toEqual(['raised', 'acknowledged']);
  });

  it('makes an acknowledgement wait for an evaluation in progress instead of being overwritten by it', async () => {
    const c = candidate();
    await evaluate([c]);
    let evaluating!: () => void;
    const started = new Promise<void>((r) => (evaluating = r));
    // A slow evaluation: it reads the alert (open), then takes a while before saving its update.
    const evaluation = locks.withLocks([enterpriseLock(c.enterprise_id)], async () => {
      const stored = await store.forEnterprises([c.enterprise_id]);
      evaluating();
      await sleep(300);
      await store.save(reconcile(stored, [{ ...c, count: 6 }], [], new Date(), ''));
    });
    await started;
    const acked = await store.act(c.fingerprint, (a) => acknowledge(a, 'li.wei', '', new Date()));
    await evaluation;
    expect(acked).toMatchObject({ status: 'acknowledged', count: 6, revision: 3 });
    expect(await store.get(c.fingerprint)).toStrictEqual(acked);
    expect(await actions(c.fingerprint)).toEqual(['raised', 'updated', 'acknowledged']);
  });

  it('serializes holders of overlapping name sets', async () => {
    const order: string[] = [];
    let entered!: () => void;
    const started = new Promise<void>((r) => (entered = r));
    const first = locks.withLocks(['s-x', 's-y'], async () => {
      entered();
      order.push('first in');
      await sleep(200);
      order.push('first out');
    });
    await started;
    await locks.withLocks(['s-y', 's-z'], async () => void order.push('second in'));
    await first;
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('times out naming the held lock, and keeps none of the others meanwhile', async () => {
    await redis.set(lockKey('t-held'), 'another-process', 'PX', 10_000);
    let ran = false;
    const startedAt = Date.now();
    const error = await locks.withLocks(['t-free-1', 't-held', 't-free-2'], async () => void (ran = true), { waitMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as LockTimeoutError).lock).toBe('t-held');
    expect((error as Error).message).toContain('t-held');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect(ran).toBe(false);
    expect(await redis.exists(lockKey('t-free-1'), lockKey('t-free-2'))).toBe(0);
    expect(await redis.get(lockKey('t-held'))).toBe('another-process');
  });

  it('takes only the free locks when asked to, never waiting, and leaves the held one alone', async () => {
    await redis.set(lockKey('f-held'), 'another-process', 'PX', 10_000);
    const startedAt = Date.now();
    const held = await locks.withFreeLocks(['f-free-1', 'f-held', 'f-free-2', 'f-free-1'], async (names) => {
      expect(await redis.exists(lockKey('f-free-1'), lockKey('f-free-2'))).toBe(2);
      return names;
    });
    expect(held).toEqual(['f-free-1', 'f-free-2']);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(await redis.exists(lockKey('f-free-1'), lockKey('f-free-2'))).toBe(0);
    expect(await redis.get(lockKey('f-held'))).toBe('another-process');
  });

  it('takes hundreds of names at once, repeated names once, and releases them all', async () => {
    const names = Array.from({ length: 500 }, (_, i) => enterpriseLock(creditCode('371402', 50_000 + i)));
    const held = await locks.withLocks([...names, ...names], async () => redis.exists(...names.map(lockKey)), { waitMs: 1_000 });
    expect(held).toBe(names.length);
    expect(await redis.exists(...names.map(lockKey))).toBe(0);
  });

  it('releases and renews only its own lock: one that lapsed and was taken by another holder stays theirs', async () => {
    await locks.withLocks(['r-brief'], async () => {
      await redis.del(lockKey('r-brief'));
      expect(await redis.set(lockKey('r-brief'), 'next-holder', 'PX', 10_000, 'NX')).toBe('OK');
      await sleep(150);
    }, { ttlMs: 60 });
    expect(await redis.get(lockKey('r-brief'))).toBe('next-holder');
    expect(await redis.pttl(lockKey('r-brief'))).toBeGreaterThan(9_000);
  });

  it('renews a lock while its holder works, however long past the TTL', async () => {
    for (const take of [
      (fn: () => Promise<void>) => locks.withLocks(['lease-long'], fn, { ttlMs: 150 }),
      (fn: () => Promise<void>) => locks.withFreeLocks(['lease-long'], fn, { ttlMs: 150 }),
    ]) {
      await take(async () => {
        await sleep(600);
        expect(await redis.set(lockKey('lease-long'), 'intruder', 'PX', 10_000, 'NX')).toBeNull();
      });
      expect(await redis.exists(lockKey('lease-long'))).toBe(0);
    }
  });

  it('tells a holder that lost its lease, to another holder or by stalling past the TTL, and not one that kept it', async () => {
    await locks.withLocks(['lease-taken'], async (lease) => {
      await redis.del(lockKey('lease-taken'));
      expect(await redis.set(lockKey('lease-taken'), 'next-holder', 'PX', 10_000, 'NX')).toBe('OK');
      await sleep(150);
      expect(() => lease.ensure()).toThrow(LeaseLostError);
    }, { ttlMs: 150 });
    await locks.withFreeLocks(['lease-stalled'], async (held, lease) => {
      expect(held).toEqual(['lease-stalled']);
      const until = Date.now() + 200;
      while (Date.now() < until);
      expect(() => lease.ensure()).toThrow(/no renewal confirmed for \d+ ms, past the 150 ms TTL/);
    }, { ttlMs: 150 });
    await locks.withLocks(['lease-kept'], async (lease) => {
      await sleep(600);
      expect(() => lease.ensure()).not.toThrow();
    }, { ttlMs: 150 });
  });

  it("frees a killed holder's lock within its TTL (2 s by default), not after the 30 s it once took", async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { Redis } = await import('ioredis');
      const { createLocks } = await import('./src/redis/lock.ts');
      const locks = createLocks(new Redis(${JSON.stringify(service.redisUrl)}), ${JSON.stringify(service.config.REDIS_PREFIX)});
      await locks.withLocks(['lease-dead'], () => { console.log('held'); return new Promise(() => {}); });
    `], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    await sleep(3_000);
    // Renewed past its 2 s TTL while the holder lives.
    expect(await redis.exists(lockKey('lease-dead'))).toBe(1);
    holder.kill('SIGKILL');
    const killedAt = Date.now();
    await locks.withLocks(['lease-dead'], async () => {}, { waitMs: 10_000 });
    expect(Date.now() - killedAt).toBeLessThan(2_500);
  }, 30_000);

  it('releases its locks when the work fails', async () => {
    await expect(locks.withLocks(['f-1'], async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await redis.exists(lockKey('f-1'))).toBe(0);
  });
});

describe("a process's memory of companies' alerts", () => {
  /** A store as another process would have it: its own memory, queries counted on the way to the engine. */
  function processStore(queries: string[]): AlertStore {
    const counting = { ...service.storage, query: (sql: string, params?: Record<string, unknown>) => (queries.push(sql), service.storage.query(sql, params)) };
    return createAlertStore(counting as typeof service.storage, locks, createAlertMemory(redis, service.config.REDIS_PREFIX, 1_000));
  }
  const underLock = <T>(company: string, work: () => Promise<T>) => locks.withLocks([enterpriseLock(company)], work);

  it('reads a company once, then answers from memory kept current by its own writes, as the engine would read it', async () => {
    const queries: string[] = [];
    const mine = processStore(queries);
    const c = candidate();
    const company = c.enterprise_id;
    expect((await underLock(company, () => mine.forEnterprises([company]))).size).toBe(0);
    expect(queries).toHaveLength(1);

    const raised = await underLock(company, async () => {
      const revisions = reconcile(await mine.forEnterprises([company]), [c], [], new Date(), 'new evidence');
      await mine.save(revisions);
      return revisions;
    });
    const second = candidate({ enterprise_id: company, fingerprint: `${c.fingerprint}-2` });
    await underLock(company, async () => mine.save(reconcile(await mine.forEnterprises([company]), [second], [], new Date(), 'new evidence')));
    await mine.act(c.fingerprint, (a) => acknowledge(a, '李伟', '已联系', new Date()));
    queries.length = 0;
    const remembered = await underLock(company, () => mine.forEnterprises([company]));
    expect(queries.filter((q) => q.includes('FROM alerts'))).toHaveLength(0);
    expect(remembered).toStrictEqual(await store.forEnterprises([company]));
    expect(remembered.get(c.fingerprint)).toMatchObject({ status: 'acknowledged', revision: raised[0]!.alert.revision + 1 });
    expect(remembered.size).toBe(2);
  });

  it("reads again a company another process wrote an alert of, and forgets everything when Redis lost the counts", async () => {
    const [queries, theirs] = [[] as string[], [] as string[]];
    const [mine, other] = [processStore(queries), processStore(theirs)];
    const c = candidate();
    const company = c.enterprise_id;
    await evaluate([c]);
    await underLock(company, () => mine.forEnterprises([company]));
    await other.act(c.fingerprint, (a) => acknowledge(a, '王芳', '已核实', new Date()));
    queries.length = 0;
    expect((await underLock(company, () => mine.forEnterprises([company]))).get(c.fingerprint)?.status).toBe('acknowledged');
    expect(queries).toHaveLength(1);
    queries.length = 0;
    await underLock(company, () => mine.forEnterprises([company]));
    expect(queries).toHaveLength(0);

    // Counting from zero again, a company could come back to the count memory holds: the epoch tells it apart.
    await redis.del(alertCountsKey(service.config.REDIS_PREFIX));
    await other.act(c.fingerprint, (a) => resolve(a, 'confirmed', '王芳', '属实', new Date()));
    await other.act(c.fingerprint, (a) => reopen(a, '王芳', '复核', new Date()));
    expect(await redis.hget(alertCountsKey(service.config.REDIS_PREFIX), company)).toBe('4');
    expect((await underLock(company, () => mine.forEnterprises([company]))).get(c.fingerprint)?.status).toBe('open');
    expect(queries).toHaveLength(1);
  });
});
