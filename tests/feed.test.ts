import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSeq, createJournal, type Journal, type JournalEntry } from '../src/feed/index.js';
import { checkin, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { connectFeed, type FeedClient } from './support/feed-client.js';
import { TOKEN_REFRESH_MS } from '../src/auth/tokens.js';
import { CLOSE } from '../src/feed/server.js';
import { auth, createToken, post, put, startTestService, type TestService } from './support/service.js';

// The live feed against a real service: real Redis stream, real WebSocket clients, alerts from real events.
let service: TestService;
let redis: Redis;
let journal: Journal;
const clients: FeedClient[] = [];

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false', FEED_MAX_BUFFER_BYTES: '65536' });
  redis = new Redis(service.redisUrl);
  // Synthetic entries go through the same journal the service publishes to, for volumes and races events can't produce quickly.
  journal = createJournal(redis, service.config.REDIS_PREFIX, { retain: service.config.FEED_RETAIN, openReader: () => new Redis(service.redisUrl) });
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  redis?.disconnect();
  await service?.dispose();
});

async function feed(options = {}): Promise<FeedClient> {
  const client = await connectFeed(service.url, options);
  clients.push(client);
  return client;
}

async function subscribed(filters: Record<string, unknown> = {}, after: string | null = null, options = {}): Promise<FeedClient> {
  const client = await feed(options);
  client.subscribe(filters, after);
  await client.next((m) => m.type === 'caught_up', 10_000, 'caught_up');
  return client;
}

// 烟台 (370602): no-plan holds there, and an unplanned check-in raises it and nothing else.
let serial = 700;
async function newCompany(): Promise<string> {
  const id = creditCode('370602', serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `推送测试企业${serial}号`, region: '370602', credit_grade: 'C' })).status).toBe(200);
  return id;
}

async function unplannedVisit(): Promise<string> {
  const company = await newCompany();
  const visit = checkin({
    enterprise_id: company, region: '370602', source: 'yantai-platform', agency_id: '370600-SCJG', officer_ids: ['370600-SCJG-001'],
    occurred_at: shanghaiAt(MID_MONTH_WEEK_AGO),
  });
  expect((await post(`${service.url}/v1/events`, [visit])).status).toBe(202);
  return company;
}

let synthetic = 0;
function entry(overrides: Partial<JournalEntry> & { bytes?: number } = {}): JournalEntry {
  const id = `syn-${process.pid}-${++synthetic}`;
  const padding = 'x'.repeat(overrides.bytes ?? 0);
  return {
    key: id, push: true, rule: 'no-plan', severity: 'high', region: '371402', agency: '371400-SCJG', ...overrides,
    payload: JSON.stringify({ v: 1, type: 'alert', action: 'raised', actor: 'test', alert: { id, padding } }),
  };
}

const seqs = (messages: any[]) => messages.filter((m) => m.type === 'alert').map((m) => m.seq as string);
const ids = (messages: any[]) => messages.filter((m) => m.type === 'alert').map((m) => m.alert.id as string);

describe('live feed', () => {
  it('pushes an alert the moment it is raised, then its acknowledgement, as versioned messages', async () => {
    const client = await subscribed({ rule: 'no-plan' });
    expect(client.messages[0]).toMatchObject({ v: 1, type: 'hello' });
    const company = await unplannedVisit();
    const raised = await client.next((m) => m.type === 'alert' && m.alert.enterprise_id === company, 20_000, 'the raised alert');
    expect(raised).toMatchObject({ v: 1, action: 'raised', actor: 'system', alert: { rule_id: 'no-plan', status: 'open', revision: 1 } });
    expect(raised.alert.title.zh).toBeTruthy();
    expect(raised.alert.evidence_count).toBeGreaterThan(0);
    expect(raised.alert).not.toHaveProperty('evidence');

    const ack = await post(`${service.url}/v1/alerts/${raised.alert.id}/ack`, { actor: '纪委值班员', note: '已核实' });
    expect(ack.status).toBe(200);
    const acknowledged = await client.next((m) => m.type === 'alert' && m.alert.id === raised.alert.id && m.action === 'acknowledged');
    expect(acknowledged).toMatchObject({ actor: '纪委值班员', alert: { status: 'acknowledged', acknowledged_by: '纪委值班员', revision: 2 } });
    expect(BigInt(acknowledged.seq.split('-')[0])).toBeGreaterThanOrEqual(BigInt(raised.seq.split('-')[0]));
  });

  it('replays what a reconnecting client missed, then goes live: no gap, no duplicate, in order', async () => {
    const witness = await subscribed();
    const first = await subscribed();
    for (let i = 0; i < 3; i++) await unplannedVisit();
    await first.next(() => first.alerts().length >= 3, 20_000, 'three alerts');
    const lastSeen = first.alerts()[1].seq;
    first.close();

    for (let i = 0; i < 3; i++) await unplannedVisit();
    await witness.next(() => witness.alerts().length >= 6, 20_000, 'six alerts at the witness');
    const again = await subscribed({}, lastSeen);
    await unplannedVisit();
    await again.next(() => again.alerts().length >= 5, 20_000, 'the missed four and the live one');
    await witness.next(() => witness.alerts().length >= 7);

    const expected = seqs(witness.messages).filter((s) => compareSeq(s, lastSeen) > 0);
    expect(seqs(again.messages)).toEqual(expected);
    // The live message came after the end of the replay.
    const caughtUp = again.messages.findIndex((m) => m.type === 'caught_up');
    expect(again.messages.slice(caughtUp + 1).filter((m) => m.type === 'alert')).toHaveLength(1);
  });

  it('keeps order and loses nothing when a client resumes while messages are being published', async () => {
    const before = await journal.state();
    const publishing = (async () => {
      for (let batch = 0; batch < 100; batch++) {
        await journal.publish(Array.from({ length: 20 }, () => entry()));
        if (batch % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const resumers = await Promise.all([0, 1, 2].map(async (i) => {
      await new Promise((r) => setTimeout(r, 20 * i));
      return subscribed({}, before.latest);
    }));
    await publishing;
    const all = (await journal.range(before.latest, 5_000)).map((e) => e.seq);
    expect(all).toHaveLength(2_000);
    for (const client of resumers) {
      await client.next(() => client.alerts().length >= 2_000, 20_000, 'all 2,000 entries');
      expect(seqs(client.messages)).toEqual(all);
    }
  });

  it('filters by rule, severity, region prefix and agency on the server', async () => {
    const client = await subscribed({ rule: ['quiet-period', 'annual-cap'], severity: 'medium', region: '3714', agency: '371400-SCJG' });
    const wanted = entry({ rule: 'quiet-period', severity: 'medium' });
    await journal.publish([
      entry({ rule: 'no-plan', severity: 'medium' }),
      entry({ rule: 'quiet-period', severity: 'high' }),
      entry({ rule: 'quiet-period', severity: 'medium', region: '370602' }),
      entry({ rule: 'quiet-period', severity: 'medium', agency: '370600-SCJG' }),
      wanted,
    ]);
    const marker = entry({ rule: 'annual-cap', severity: 'medium' });
    await journal.publish([marker]);
    await client.next((m) => m.type === 'alert' && m.alert.id === marker.key);
    expect(ids(client.messages)).toEqual([wanted.key, marker.key]);
  });

  it('publishes each key once however often delivery is retried', async () => {
    const client = await subscribed();
    const once = entry();
    expect(await journal.publish([once, once])).toBe(1);
    expect(await journal.publish([once])).toBe(0);
    const marker = entry();
    await journal.publish([marker]);
    await client.next((m) => m.type === 'alert' && m.alert.id === marker.key);
    expect(ids(client.messages)).toEqual([once.key, marker.key]);
  });

  it('answers a bad subscription with an error naming the field and keeps the connection', async () => {
    const client = await feed();
    client.ws.send('{not json');
    client.subscribe({ severity: 'urgent' });
    client.subscribe({ colour: 'red' });
    client.ws.send(JSON.stringify({ type: 'subscribe', after: 'yesterday' }));
    await client.next(() => client.messages.filter((m) => m.type === 'error').length >= 4, 5_000, 'four errors');
    expect(client.messages.filter((m) => m.type === 'error').map((m) => m.field)).toEqual(['', 'filters.severity', 'filters.colour', 'after']);
    client.subscribe({});
    await client.next((m) => m.type === 'caught_up');
  });

  it('closes a client that sends more than the payload limit (1009)', async () => {
    const client = await feed();
    client.ws.send(JSON.stringify({ type: 'subscribe', filters: {}, padding: 'x'.repeat(service.config.FEED_MAX_PAYLOAD_BYTES) }));
    expect((await client.closed).code).toBe(1009);
  });

  it('closes a slow client with 4008 instead of buffering for it, while a fast one gets everything', async () => {
    const slow = await subscribed();
    const fast = await subscribed();
    (slow.ws as any)._socket.pause();
    const flood = Array.from({ length: 2_000 }, () => entry({ bytes: 8_000 }));
    for (let i = 0; i < flood.length; i += 100) await journal.publish(flood.slice(i, i + 100));
    await fast.next(() => fast.alerts().length >= flood.length, 30_000, 'the whole flood at the fast client');
    expect(ids(fast.messages).slice(-flood.length)).toEqual(flood.map((e) => e.key));
    (slow.ws as any)._socket.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/^slow consumer: more than 65536 bytes waiting/);
    expect(slow.alerts().length).toBeLessThan(flood.length);
  });

  it('closes every open connection of a revoked token, and of an expired one, within the token refresh interval (4001)', async () => {
    const staff = await createToken(service.url, 'discipline');
    const soonExpired = await createToken(service.url, 'discipline', { expires_in_days: 3 / 86_400 });
    const withToken = (token: string) => ({ headers: auth(token) });
    const [listening, idle, expiring, other] = [
      await subscribed({}, null, withToken(staff.token)), await feed(withToken(staff.token)), await feed(withToken(soonExpired.token)), await feed(),
    ];
    const revokedAt = Date.now();
    expect((await post(`${service.url}/v1/tokens/${staff.id}/revoke`, {})).status).toBe(200);
    for (const client of [listening, idle]) {
      expect(await client.closed).toEqual({ code: CLOSE.tokenRevoked, reason: 'token revoked or expired' });
    }
    expect(Date.now() - revokedAt).toBeLessThan(TOKEN_REFRESH_MS + 500);
    expect(await expiring.closed).toMatchObject({ code: CLOSE.tokenRevoked });
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    await expect(feed(withToken(staff.token))).rejects.toThrow(/401/);
  });

  it('orders seqs as (ms, n) numbers, not as text', () => {
    expect(compareSeq('999-0', '1000-0')).toBeLessThan(0);
    expect(compareSeq('1000-10', '1000-9')).toBeGreaterThan(0);
    expect(compareSeq('1000-2', '1000-2')).toBe(0);
    expect(compareSeq('1795444475446-11', '1795444475450-0')).toBeLessThan(0);
  });

  it('answers plain HTTP on the stream path with 426', async () => {
    const res = await fetch(`${service.url}/v1/alerts/stream`, { headers: auth() });
    expect(res.status).toBe(426);
    expect((await res.json()).error).toBe('upgrade_required');
  });
});

