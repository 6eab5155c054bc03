import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/index.js';
import { addWorkingMinutes, calendarDate } from '../src/calendar/index.js';
import {
  createTicketStore, draftTicketId, enqueueAlertTickets, enqueueComplaintTickets, hotlineSettings, complaintTicketId, ticketId, type HotlineQueue, type Ticket,
} from '../src/hotline/index.js';
import { createTicketOpener } from '../src/hotline/opening.js';
import { createLogger } from '../src/log.js';
import { createHomes, createReferenceStore } from '../src/reference/index.js';
import { createLocks } from '../src/redis/lock.js';
import type { Storage } from '../src/storage/index.js';
import type { Event } from '../src/ingest/index.js';
import { asOf, breachSla, claim, openTicket, recordCallback, reopen, resolve, slaMissed } from '../src/hotline/lifecycle.js';
import { openQueue } from '../src/queues/index.js';
import { complaint, creditCode, uniqueId } from './support/fixtures.js';
import { eventually, get, personToken, post, startTestService, type TestService } from './support/service.js';

/**
 * The 12345 hotline queue with the real service: complaints and alerts become
 * tickets once, staff claim and work them under per-ticket locks, abandoned
 * claims return to the queue, and SLA timers (BullMQ delayed jobs) escalate
 * across a restart. One data directory for the whole file (the embedded engine
 * binds one per process); the timer tests restart the service on it with short timers.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'qingjian-hotline-'));
let service: TestService;
let redis: Redis;
let queue: HotlineQueue;

beforeAll(async () => {
  service = await startTestService({}, { api: true, worker: true }, dataDir);
  redis = new Redis(service.redisUrl, { maxRetriesPerRequest: null });
  queue = openQueue('hotline', redis, service.config.REDIS_PREFIX);
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const ticketUrl = (id: string) => `${service.url}/v1/hotline/tickets/${id}`;
const act = (id: string, action: string, body: unknown) => post(`${ticketUrl(id)}/${action}`, body);

async function ticketOf(id: string, timeoutMs = 20_000): Promise<Ticket> {
  return eventually(async () => {
    const res = await get(ticketUrl(id));
    return res.status === 200 ? (res.body as Ticket) : undefined;
  }, timeoutMs, `ticket ${id}`);
}

let serial = 1_000;
/**
 * Posts a complaint about a company of its own (at home in the complaint's region) and waits for its ticket.
 * 莆田 (350302) by default: the policy map sends its complaints to the 12345 hotline, the default destination
 * (德州's go to the discipline commission's feed instead).
 */
async function complaintTicket(overrides: Record<string, unknown> = {}): Promise<{ event: ReturnType<typeof complaint>; ticket: Ticket }> {
  const region = (overrides.region as string | undefined) ?? '350302';
  const event = complaint({ enterprise_id: creditCode(region, ++serial), region, ...overrides });
  expect((await post(`${service.url}/v1/events`, event)).status).toBe(202);
  return { event, ticket: await ticketOf(complaintTicketId(event)) };
}

async function storedRows(table: 'tickets' | 'ticket_changes', id: string): Promise<number> {
  const column = table === 'tickets' ? 'id' : 'ticket_id';
  const [row] = await service.storage.query<{ n: string }>(`SELECT count() AS n FROM ${table} FINAL WHERE ${column} = {id:String}`, { id });
  return Number(row!.n);
}

async function listAll(query: string, limit = 1000): Promise<Ticket[]> {
  const items: Ticket[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(`${service.url}/v1/hotline/tickets?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('opening tickets', () => {
  it('makes exactly one ticket of a complaint, however often it is posted, stored or queued', async () => {
    const { event, ticket } = await complaintTicket({ agency_id: '350300-SCJG' });
    expect(ticket).toMatchObject({
      id: complaintTicketId(event), source: 'complaint', source_id: event.id, alert_id: null, region: '350302',
      enterprise_id: event.enterprise_id, agency_id: '350300-SCJG', category: 'no_scan', description: event.text,
      priority: 'normal', state: 'new', claimed_by: '', claimed_until: null, assignee: null, outcome: '', accepted_at: null,
      resolved_at: null, sla_breaches: [], callback: null, complainant: null, revision: 1,
    });
    // The number people read out: 12345, the Shanghai day it was opened, that day's serial.
    expect(ticket.number).toMatch(new RegExp(`^12345-${calendarDate(Date.parse(ticket.created_at)).replaceAll('-', '')}-\\d{4}$`));
    expect(ticket.title.zh).toBe('企业投诉：检查人员未亮码入企');
    expect(Date.parse(ticket.accept_due_at)).toBeGreaterThan(Date.parse(ticket.created_at));
    expect(Date.parse(ticket.resolve_due_at)).toBeGreaterThan(Date.parse(ticket.accept_due_at));

    // The same event again: ingest reports a duplicate.
    expect((await post(`${service.url}/v1/events`, event)).body.duplicates).toBe(1);
    // A store job delivered twice (at-least-once) stores the event again and queues its ticket again.
    const storeQueue = openQueue('store', redis, service.config.REDIS_PREFIX);
    await storeQueue.add('redelivered', { received_at: new Date().toISOString(), events: [event as Event] });
    await storeQueue.close();
    // The open-ticket job itself run again, as after a crash before it completed.
    await queue.remove(`open-${ticket.id}`);
    expect(await enqueueComplaintTickets(queue, [event as Event])).toEqual([ticket.id]);
    await eventually(async () => ((await queue.getJobState(`open-${ticket.id}`)) === 'completed' ? true : undefined), 20_000, 'open job re-run');
    await sleep(300);

    expect(await storedRows('tickets', ticket.id)).toBe(1);
    expect(await storedRows('ticket_changes', ticket.id)).toBe(1);
    expect(await ticketOf(ticket.id)).toStrictEqual(ticket);
  });

  it('makes one ticket of an alert routed to the hotline, however often it repeats', async () => {
    const company = creditCode('371402', 777);
    expect((await post(`${service.url}/v1/events`, complaint({ enterprise_id: company, category: 'no_scan' }))).status).toBe(202);
    // A no_scan complaint raises entry-without-scan directly (channels feed and hotline).
    const alert = await eventually(async () => {
      const res = await get(`${service.url}/v1/alerts?enterprise=${company}&rule=entry-without-scan`);
      return (res.body.items as Alert[])[0];
    }, 20_000, 'entry-without-scan alert');
    expect(alert.channels).toContain('hotline');

    const id = ticketId('alert', alert.id);
    expect(await enqueueAlertTickets(queue, [alert])).toEqual([id]);
    expect(await enqueueAlertTickets(queue, [alert])).toEqual([id]);
    const ticket = await ticketOf(id);
    await queue.remove(`open-${id}`);
    expect(await enqueueAlertTickets(queue, [{ ...alert, count: alert.count + 1, revision: alert.revision + 1 }])).toEqual([id]);
    await eventually(async () => ((await queue.getJobState(`open-${id}`)) === 'completed' ? true : undefined), 20_000, 'repeat processed');

    expect(ticket).toMatchObject({
      source: 'alert', source_id: alert.id, alert_id: alert.id, category: 'entry-without-scan', priority: 'high',
      title: alert.title, description: alert.message.zh, region: alert.region, enterprise_id: company, revision: 1,
    });
    expect(await storedRows('tickets', id)).toBe(1);
    expect(await storedRows('ticket_changes', id)).toBe(1);
  });

  it('opens no ticket for shadow, silenced, resolved or feed-only alerts', async () => {
    const [alert] = (await get(`${service.url}/v1/alerts?rule=entry-without-scan&limit=1`)).body.items as Alert[];
    for (const unrouted of [
      { ...alert!, mode: 'shadow' as const },
      { ...alert!, silenced_by: ['silence-1'] },
      { ...alert!, status: 'resolved' as const },
      { ...alert!, channels: ['feed' as const] },
    ]) expect(await enqueueAlertTickets(queue, [unrouted])).toEqual([]);
  });
});

describe('opening tickets in groups', () => {
  // The opener as the worker runs it, on the real engine and Redis, with a queue and counters of its own; the
  // storage counts what it is asked.
  const calls: string[] = [];
  const queues: HotlineQueue[] = [];
  afterAll(async () => Promise.all(queues.map((q) => q.close())));
  function opener(prefix: string) {
    const counting: Storage = {
      ...service.storage,
      query: (sql, params) => (calls.push(sql.split(' FROM ')[0]!.slice(0, 40)), service.storage.query(sql, params)),
      insert: (table, rows) => (calls.push(`insert ${table}`), service.storage.insert(table, rows)),
    };
    queues.push(openQueue('hotline', redis, prefix));
    return createTicketOpener({
      store: createTicketStore(counting, createLocks(redis, prefix)),
      queue: queues.at(-1)!,
      homes: createHomes(redis, createReferenceStore(service.storage), prefix),
      settings: hotlineSettings(service.config),
      counters: redis,
      redisPrefix: prefix,
      log: createLogger('silent'),
    });
  }
  const drafts = (n: number) => Array.from({ length: n }, (_, i) => ({
    source: 'complaint' as const, source_id: uniqueId('grouped'), alert_id: null, region: '350302', enterprise_id: creditCode('350302', 9_000 + i),
    agency_id: '', category: 'other', title: { zh: '企业投诉：其他问题', en: 'Complaint: other matter' }, description: '', priority: 'normal' as const,
  }));
  const createdAt = new Date('2026-12-01T02:00:00Z');

  it('opens tickets asked for at once with one read and one insert into each table, numbered one after the other', async () => {
    const open = opener(`grouped-${Date.now()}`);
    const group = drafts(30);
    calls.length = 0;
    await Promise.all(group.map((draft) => open.open({ draft, createdAt })));
    expect(calls.sort()).toEqual(['SELECT DISTINCT id', 'SELECT max(toUInt32OrZero(substring(numb', 'insert ticket_changes', 'insert tickets']);
    const ids = group.map(draftTicketId);
    const stored = await service.storage.query<{ id: string; number: string; state: string; accept_due_at: string }>(
      'SELECT id, number, state, accept_due_at FROM tickets FINAL WHERE id IN {ids:Array(String)}', { ids });
    expect(stored.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(stored.every((t) => t.state === 'new')).toBe(true);
    // The day's counter was new: it started after the highest number stored that day, and gave each ticket its own.
    const serials = stored.map((t) => Number(t.number.slice(15))).sort((a, b) => a - b);
    expect(new Set(serials).size).toBe(30);
    expect(serials.at(-1)! - serials[0]!).toBe(29);
    expect(stored.map((t) => t.number.slice(0, 15))).toEqual(stored.map(() => '12345-20261201-'));

    // The same group again (jobs retried after a crash): read, nothing written, nothing renumbered.
    calls.length = 0;
    await Promise.all(group.map((draft) => open.open({ draft, createdAt })));
    expect(calls).toEqual(['SELECT DISTINCT id']);
    expect(await storedRows('tickets', ids[0]!)).toBe(1);
  });

  it('opens the others when one of a group cannot be opened, and fails that one alone', async () => {
    const open = opener(`grouped-${Date.now()}`);
    const [good, bad, other] = drafts(3);
    const outcomes = await Promise.allSettled([
      open.open({ draft: good!, createdAt }),
      open.open({ draft: bad!, createdAt: new Date(Number.NaN) }),
      open.open({ draft: other!, createdAt }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await storedRows('tickets', draftTicketId(good!))).toBe(1);
    expect(await storedRows('tickets', draftTicketId(other!))).toBe(1);
    expect(await storedRows('tickets', draftTicketId(bad!))).toBe(0);
  });
});

describe('the queue', () => {
  it('lists open tickets by priority (urgent first), then oldest first, page after page', async () => {
    const older = await complaintTicket({ region: '370602' });
    const newer = await complaintTicket({ region: '370602' });
    const inRegion = await listAll('region=3706');
    expect(inRegion.map((t) => t.id)).toEqual([older.ticket.id, newer.ticket.id]);

    const all = await listAll('');
    expect(all.map((t) => t.id)).toEqual((await listAll('', 2)).map((t) => t.id));
    expect(new Set(all.map((t) => t.priority))).toEqual(new Set(['high', 'normal']));
    const rank = { urgent: 0, high: 1, normal: 2 };
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      const ordered = rank[a.priority] < rank[b.priority] || (rank[a.priority] === rank[b.priority] && a.created_at <= b.created_at);
      expect(ordered, `${a.id} (${a.priority}, ${a.created_at}) before ${b.id} (${b.priority}, ${b.created_at})`).toBe(true);
    }
    expect(all.every((t) => t.state !== 'resolved')).toBe(true);
  });

  it('filters by state, priority, category, region, source, claimed_by and assignee_kind', async () => {
    const { ticket } = await complaintTicket({ category: 'misconduct', region: '370603' });
    expect((await act(ticket.id, 'claim', { actor: 'filter.tester' })).status).toBe(200);
    expect((await act(ticket.id, 'assign', { actor: 'filter.tester', to: { kind: 'discipline', id: '370600-JWJW' } })).status).toBe(200);
    const ids = async (query: string) => (await listAll(query)).map((t) => t.id);
    expect(await ids('claimed_by=filter.tester')).toEqual([ticket.id]);
    expect(await ids('assignee_kind=discipline')).toEqual([ticket.id]);
    expect(await ids('region=370603&state=assigned&category=misconduct&source=complaint&priority=normal')).toEqual([ticket.id]);
    expect(await ids('region=370603&state=new')).toEqual([]);
    expect(await ids('source=alert')).not.toContain(ticket.id);
  });

  it.each([
    ['state', 'state=closed'],
    ['priority', 'priority=low'],
    ['region', 'region=37a'],
    ['assignee_kind', 'assignee_kind=police'],
    ['limit', 'limit=0'],
    ['cursor', 'cursor=nope'],
    ['colour', 'colour=red'],
  ])('answers 400 naming %s', async (field, query) => {
    const res = await get(`${service.url}/v1/hotline/tickets?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });
});

describe('working a ticket', () => {
  it('lets exactly one of 20 concurrent claims win; the others learn who holds it', async () => {
    const { ticket } = await complaintTicket();
    const actors = Array.from({ length: 20 }, (_, i) => `operator.${i}`);
    const results = await Promise.all(actors.map((actor) => act(ticket.id, 'claim', { actor })));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    const holder = won[0]!.body.claimed_by as string;
    expect(actors).toContain(holder);
    const lost = results.filter((r) => r.status !== 200);
    expect(lost).toHaveLength(19);
    for (const r of lost) expect(r).toMatchObject({ status: 409, body: { error: 'conflict', claimed_by: holder } });
    const { body } = await get(ticketUrl(ticket.id));
    expect(body).toMatchObject({ state: 'claimed', claimed_by: holder, accepted_at: won[0]!.body.accepted_at });
    expect(body.history.map((h: { action: string }) => h.action)).toEqual(['opened', 'claimed']);
  });

  it('lets the holder renew and release a claim, and nobody else', async () => {
    const { ticket } = await complaintTicket();
    const first = await act(ticket.id, 'claim', { actor: 'li.wei' });
    await sleep(20);
    const renewed = await act(ticket.id, 'claim', { actor: 'li.wei' });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.claimed_until)).toBeGreaterThan(Date.parse(first.body.claimed_until));
    expect(renewed.body.accepted_at).toBe(first.body.accepted_at);

    expect(await act(ticket.id, 'release', { actor: 'zhang.min' })).toMatchObject({ status: 409, body: { claimed_by: 'li.wei' } });
    const released = await act(ticket.id, 'release', { actor: 'li.wei', note: '转交下一班' });
    expect(released.body).toMatchObject({ state: 'new', claimed_by: '', claimed_until: null });
    expect(await act(ticket.id, 'release', { actor: 'li.wei' })).toEqual({ status: 409, body: { error: 'conflict', message: 'ticket is not claimed' } });
    expect((await act(ticket.id, 'claim', { actor: 'zhang.min' })).body).toMatchObject({ state: 'claimed', claimed_by: 'zhang.min' });
  });

  it("keeps the caller's contact on the ticket alone, out of the stored event and its public record", async () => {
    const complainant = { name: '陈女士', phone: '13800138000' };
    const { event, ticket } = await complaintTicket({ complainant });
    expect(ticket.complainant).toEqual(complainant);
    const [row] = await service.storage.query<{ payload: string }>('SELECT payload FROM events WHERE id = {id:String}', { id: event.id });
    expect(JSON.parse(row!.payload)).toMatchObject({ id: event.id, text: event.text });
    expect(row!.payload).not.toContain('13800138000');
    const timeline = await get(`${service.url}/v1/enterprises/${event.enterprise_id}/timeline`);
    expect(JSON.stringify(timeline.body)).not.toContain('13800138000');
    expect((await post(`${service.url}/v1/events`, complaint({ complainant: { phone: 'call me' } }))).body.errors?.[0])
      .toMatchObject({ field: 'complainant.phone' });
  });

  it('numbers the tickets of a day one after the other, never twice', async () => {
    const opened = await Promise.all([complaintTicket({}), complaintTicket({}), complaintTicket({})]);
    const numbers = opened.map(({ ticket }) => ticket.number as string);
    expect(new Set(numbers).size).toBe(3);
    // Every ticket of that day, resolved or not: 0001, 0002, … with no number given twice.
    const rows = await service.storage.query<{ number: string }>(
      'SELECT number FROM tickets FINAL WHERE startsWith(number, {day:String})', { day: numbers[0]!.slice(0, 15) });
    const serials = rows.map((r) => Number(r.number.slice(15))).sort((a, b) => a - b);
    expect(serials).toEqual(serials.map((_, i) => i + 1));
  });

  it('assigns, re-categorises, takes notes, resolves and reopens, keeping every change', async () => {
    const { ticket } = await complaintTicket({ category: 'other' });
    const id = ticket.id;
    expect(await act(id, 'assign', { actor: 'li.wei', to: { kind: 'agency', id: '350300-SCJG' } }))
      .toEqual({ status: 409, body: { error: 'conflict', message: 'claim the ticket before assigning it' } });
    expect((await act(id, 'claim', { actor: 'li.wei' })).status).toBe(200);

    const noted = await act(id, 'notes', { actor: 'zhang.min', text: '企业负责人电话已核实' });
    expect(noted.status).toBe(200);
    const categorised = await act(id, 'categorise', { actor: 'li.wei', category: 'frequent', note: '实为频繁检查' });
    expect(categorised.body).toMatchObject({ category: 'frequent' });
    expect(await act(id, 'categorise', { actor: 'zhang.min', category: 'no_plan' })).toMatchObject({ status: 409, body: { claimed_by: 'li.wei' } });
    expect((await act(id, 'categorise', { actor: 'li.wei', category: 'frequent-visits' })).body.category).toBe('frequent-visits');

    const assigned = await act(id, 'assign', { actor: 'li.wei', to: { kind: 'justice', id: '350300-SFJ' }, note: '移交司法局执法监督科' });
    expect(assigned.body).toMatchObject({ state: 'assigned', assignee: { kind: 'justice', id: '350300-SFJ' }, claimed_by: 'li.wei' });
    expect(await act(id, 'resolve', { actor: 'zhang.min', outcome: 'substantiated', note: 'x' })).toMatchObject({ status: 409, body: { claimed_by: 'li.wei' } });
    expect(await act(id, 'reopen', { actor: 'li.wei', note: '?' })).toEqual({
      status: 409, body: { error: 'conflict', message: 'ticket is assigned; only a resolved ticket can be reopened' },
    });

    // 12345 practice: the caller is called back (回访) and says how satisfied they are before the ticket is closed.
    expect(await act(id, 'resolve', { actor: 'li.wei', outcome: 'substantiated', note: '经核查属实' })).toEqual({
      status: 409, body: { error: 'conflict', message: "a complaint ticket is resolved only after its callback (回访) records the caller's satisfaction" },
    });
    expect(await act(id, 'callback', { actor: 'zhang.min', satisfaction: 'satisfied' })).toMatchObject({ status: 409, body: { claimed_by: 'li.wei' } });
    const called = await act(id, 'callback', { actor: 'li.wei', satisfaction: 'basically_satisfied', note: '来电人基本满意' });
    expect(called.body.callback).toEqual({ at: called.body.updated_at, by: 'li.wei', satisfaction: 'basically_satisfied', note: '来电人基本满意' });
    const resolved = await act(id, 'resolve', { actor: 'li.wei', outcome: 'substantiated', note: '经核查属实，已责令整改' });
    expect(resolved.body).toMatchObject({
      state: 'resolved', outcome: 'substantiated', resolution_note: '经核查属实，已责令整改', claimed_by: '', claimed_until: null,
    });
    expect(resolved.body.resolved_at).not.toBeNull();
    expect(await act(id, 'claim', { actor: 'li.wei' })).toMatchObject({ status: 409, body: { error: 'conflict' } });
    expect((await get(`${service.url}/v1/hotline/tickets?region=350302`)).body.items.map((t: Ticket) => t.id)).not.toContain(id);
    expect((await listAll('state=resolved')).map((t) => t.id)).toContain(id);

    const reopened = await act(id, 'reopen', { actor: 'wang.fang', note: '企业再次来电' });
    // A reopened complaint is called back again before it is closed again.
    expect(reopened.body).toMatchObject({ state: 'new', outcome: '', resolution_note: '', resolved_at: null, assignee: { kind: 'justice' }, callback: null });
    // A fresh resolve deadline: 5 working days from the reopening.
    const { resolveSlaMinutes, schedule } = hotlineSettings(service.config);
    expect(reopened.body.resolve_due_at).toBe(addWorkingMinutes(new Date(reopened.body.updated_at), resolveSlaMinutes, schedule).toISOString());

    const { body } = await get(ticketUrl(id));
    expect(body.history.map((h: Record<string, unknown>) => [h.revision, h.action, h.actor, h.from_state, h.to_state])).toEqual([
      [1, 'opened', 'system', '', 'new'],
      [2, 'claimed', 'li.wei', 'new', 'claimed'],
      [3, 'note', 'zhang.min', 'claimed', 'claimed'],
      [4, 'categorised', 'li.wei', 'claimed', 'claimed'],
      [5, 'categorised', 'li.wei', 'claimed', 'claimed'],
      [6, 'assigned', 'li.wei', 'claimed', 'assigned'],
      [7, 'callback', 'li.wei', 'assigned', 'assigned'],
      [8, 'resolved', 'li.wei', 'assigned', 'resolved'],
      [9, 'reopened', 'wang.fang', 'resolved', 'new'],
    ]);
    expect(body.notes).toEqual([{ at: noted.body.updated_at, actor: 'zhang.min', text: '企业负责人电话已核实' }]);
    expect(body.revision).toBe(9);

    // Dashboards read the history alone: region, category and source are copied into every change.
    const rows = await service.storage.query<Record<string, string>>(
      'SELECT revision, action, region, category, source, enterprise_id FROM ticket_changes FINAL WHERE ticket_id = {id:String} ORDER BY revision', { id });
    expect(rows).toHaveLength(9);
    expect(rows.every((r) => r.region === '350302' && r.source === 'complaint' && r.enterprise_id === ticket.enterprise_id)).toBe(true);
    expect(rows.map((r) => r.category)).toEqual(['other', 'other', 'other', 'frequent', ...Array(5).fill('frequent-visits')]);
  });

  it.each([
    ['claim', { actor: '  ' }, 'actor'],
    ['claim', { actor: 'li.wei', until: 'tomorrow' }, 'until'],
    ['assign', { actor: 'li.wei' }, 'to'],
    ['assign', { actor: 'li.wei', to: { kind: 'police', id: 'x' } }, 'to.kind'],
    ['assign', { actor: 'li.wei', to: { kind: 'agency', id: '' } }, 'to.id'],
    ['categorise', { actor: 'li.wei', category: 'weather' }, 'category'],
    ['notes', { actor: 'li.wei', text: '' }, 'text'],
    ['notes', { actor: 'li.wei' }, 'text'],
    ['resolve', { actor: 'li.wei', outcome: 'fixed', note: '已处理' }, 'outcome'],
    ['resolve', { actor: 'li.wei', outcome: 'withdrawn' }, 'note'],
    ['reopen', { actor: 'li.wei', note: '' }, 'note'],
  ])('answers 400 to %s with %j naming %s, changing nothing', async (action, body, field) => {
    const { ticket } = await complaintTicket();
    const res = await act(ticket.id, action, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect((await ticketOf(ticket.id)).revision).toBe(1);
  });

  it('answers 404 for an unknown ticket, 400 to malformed JSON and 415 to another content type', async () => {
    expect(await get(ticketUrl('no-such-ticket'))).toEqual({ status: 404, body: { error: 'not_found', message: 'no such ticket' } });
    expect(await act('no-such-ticket', 'claim', { actor: 'li.wei' })).toEqual({ status: 404, body: { error: 'not_found', message: 'no such ticket' } });
    expect((await post(`${ticketUrl('x')}/claim`, '{"actor": ', 'application/json')).body).toMatchObject({ error: 'malformed_json' });
    expect((await post(`${ticketUrl('x')}/claim`, 'actor=li.wei', 'text/plain')).status).toBe(415);
  });

  it('documents the hotline endpoints in the OpenAPI document', async () => {
    const { body } = await get(`${service.url}/openapi.json`);
    for (const action of ['claim', 'release', 'assign', 'categorise', 'notes', 'resolve', 'reopen']) {
      expect(body.paths, action).toHaveProperty([`/v1/hotline/tickets/{id}/${action}`]);
    }
    expect(body.paths).toHaveProperty(['/v1/hotline/tickets']);
    expect(body.paths).toHaveProperty(['/v1/hotline/tickets/{id}']);
    expect(body.components.schemas.ResolveTicketBody.required).toEqual(['outcome', 'note']);
  });

  it("acts as the token's holder, and refuses a body naming anyone else (400 naming actor), changing nothing", async () => {
    const { ticket } = await complaintTicket();
    const liWei = await personToken(service.url, '李伟', 'hotline', { unit: '12345热线' });
    const as = (token: string, action: string, body: unknown) => fetch(`${ticketUrl(ticket.id)}/${action}`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const refused = await as(liWei, 'claim', { actor: '张敏' });
    expect(refused).toMatchObject({ status: 400, body: { error: 'validation_failed', errors: [{ field: 'actor', message: expect.stringContaining('李伟') }] } });
    expect((await ticketOf(ticket.id)).revision).toBe(1);
    expect((await as(liWei, 'claim', {})).body).toMatchObject({ state: 'claimed', claimed_by: '李伟' });
    expect((await as(liWei, 'notes', { actor: '李伟', text: '本人核实' })).status).toBe(200);
    const entries = (await get(`${service.url}/v1/audit?target_kind=ticket&target_id=${ticket.id}`)).body.items;
    expect(entries.map((e: any) => [e.action, e.actor, e.actor_role, e.actor_unit, e.actor_shared])).toEqual([
      ['ticket.note', '李伟', 'hotline', '12345热线', false], ['ticket.claim', '李伟', 'hotline', '12345热线', false],
    ]);
  });
});

describe('the lifecycle rules', () => {
  const t0 = new Date('2026-11-20T01:00:00Z');
  const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
  const opened = openTicket({
    source: 'complaint', source_id: 'co-1', alert_id: null, region: '371402', enterprise_id: creditCode('371402', 1), agency_id: '',
    category: 'other', title: { zh: '企业投诉：其他问题', en: 'Complaint: other matter' }, description: '', priority: 'high',
  }, t0, { accept_due_at: later(120), resolve_due_at: later(2100) }).ticket;

  it('raises priority one step per missed deadline, up to urgent', () => {
    const once = breachSla(opened, 'accept', later(121)).ticket;
    expect(once).toMatchObject({ priority: 'urgent', sla_breaches: ['accept'] });
    expect(slaMissed(once, 'accept', once.accept_due_at)).toBe(false);
    expect(breachSla(once, 'resolve', later(2101)).ticket).toMatchObject({ priority: 'urgent', sla_breaches: ['accept', 'resolve'] });
  });

  it('treats a deadline as met once accepted, and a replaced resolve deadline as void', () => {
    const claimed = claim(opened, 'li.wei', later(10), 30 * 60_000).ticket;
    expect(slaMissed(claimed, 'accept', opened.accept_due_at)).toBe(false);
    expect(() => resolve(claimed, 'li.wei', 'withdrawn', '企业撤回投诉', later(15))).toThrow(/callback/);
    const called = recordCallback(claimed, 'li.wei', 'satisfied', '', later(18), 30 * 60_000).ticket;
    const resolved = resolve(called, 'li.wei', 'withdrawn', '企业撤回投诉', later(20)).ticket;
    expect(slaMissed(resolved, 'resolve', opened.resolve_due_at)).toBe(false);
    const reopened = reopen(resolved, 'wang.fang', '再次来电', later(30), later(3000)).ticket;
    expect(slaMissed(reopened, 'resolve', opened.resolve_due_at)).toBe(false);
    expect(slaMissed(reopened, 'resolve', reopened.resolve_due_at)).toBe(true);
  });

  it('reads a lapsed claim as none', () => {
    const claimed = claim(opened, 'li.wei', later(10), 30 * 60_000).ticket;
    expect(asOf(claimed, later(39))).toMatchObject({ state: 'claimed', claimed_by: 'li.wei' });
    expect(asOf(claimed, later(40))).toMatchObject({ state: 'new', claimed_by: '', claimed_until: null, accepted_at: later(10).toISOString() });
  });
});

describe('timers (restarted with short ones: 3 s claims, 12 s to accept, every minute working)', () => {
  const env = { HOTLINE_ALWAYS_WORKING: 'true', HOTLINE_CLAIM_MINUTES: '0.05', HOTLINE_ACCEPT_SLA_MINUTES: '0.2' };
  let late: Ticket;

  beforeAll(async () => {
    await queue.close();
    redis.disconnect();
    await service.stop();
    service = await startTestService(env, { api: true, worker: true }, dataDir);
  });

  it('returns an abandoned claim to the queue when its lease runs out', async () => {
    const { ticket } = await complaintTicket();
    const claimed = await act(ticket.id, 'claim', { actor: 'li.wei' });
    expect(Date.parse(claimed.body.claimed_until) - Date.parse(claimed.body.updated_at)).toBe(3_000);
    expect(await act(ticket.id, 'claim', { actor: 'zhang.min' })).toMatchObject({ status: 409, body: { claimed_by: 'li.wei' } });

    const released = await eventually(async () => {
      const { body } = await get(ticketUrl(ticket.id));
      return body.history.some((h: { action: string }) => h.action === 'released') ? body : undefined;
    }, 15_000, 'the lapsed claim released by the timer');
    expect(released).toMatchObject({ state: 'new', claimed_by: '', claimed_until: null, accepted_at: claimed.body.accepted_at });
    expect(released.history.at(-1)).toMatchObject({ action: 'released', actor: 'system', from_state: 'claimed', to_state: 'new' });
    expect((await listAll('state=new')).map((t) => t.id)).toContain(ticket.id);
    expect((await act(ticket.id, 'claim', { actor: 'zhang.min' })).body).toMatchObject({ claimed_by: 'zhang.min' });
  });

  it('escalates a ticket nobody accepted in time, even when the deadline passed while the service was down', async () => {
    ({ ticket: late } = await complaintTicket());
    expect(Date.parse(late.accept_due_at) - Date.parse(late.created_at)).toBe(12_000);
    const dataDirKept = service.dataDir;
    await service.stop();
    expect(Date.now(), 'stopped before the deadline').toBeLessThan(Date.parse(late.accept_due_at));
    await sleep(Date.parse(late.accept_due_at) - Date.now() + 500);

    service = await startTestService(env, { api: true, worker: true }, dataDirKept);
    const escalated = await eventually(async () => {
      const { body } = await get(ticketUrl(late.id));
      return body.sla_breaches.length > 0 ? body : undefined;
    }, 30_000, 'the accept SLA breach');
    expect(escalated).toMatchObject({ priority: 'high', sla_breaches: ['accept'], state: 'new' });
    expect(escalated.history.at(-1)).toMatchObject({ action: 'sla_breached', actor: 'system', priority: 'high' });

    const alert = await eventually(async () => {
      const res = await get(`${service.url}/v1/alerts?rule=hotline-sla&enterprise=${late.enterprise_id}`);
      return (res.body.items as Alert[])[0];
    }, 10_000, 'the hotline-sla alert');
    expect(alert).toMatchObject({
      variant: 'accept', severity: 'high', mode: 'active', channels: ['feed'], status: 'open',
      title: { zh: '12345工单超时未受理' }, region: late.region, enterprise_id: late.enterprise_id,
      figures: { ticket_id: late.id, sla: 'accept', due_at: late.accept_due_at },
    });
    expect(alert.message.zh).toContain(late.id);
  });
});
