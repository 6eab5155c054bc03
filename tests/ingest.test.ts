import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { seenKey, senderKey } from '../src/ingest/index.js';
import { checkin, complaint, creditCode, ENTERPRISE, filing, inspection, plan } from './support/fixtures.js';
import { auth, eventually, get, post, startTestService, type TestService } from './support/service.js';

let service: TestService;
const events = () => `${service.url}/v1/events`;

beforeAll(async () => {
  service = await startTestService({ INGEST_MAX_EVENTS: '50', INGEST_MAX_BYTES: '65536' });
});
afterAll(() => service?.dispose());

/** Rows stored for an id, after ReplacingMergeTree's read-side folding. */
async function storedCount(id: string): Promise<number> {
  const [row] = await service.storage.query<{ n: string }>('SELECT count() AS n FROM events FINAL WHERE id = {id:String}', { id });
  return Number(row!.n);
}

const waitStored = (id: string, rows = 1) =>
  eventually(async () => ((await storedCount(id)) === rows ? true : undefined), 20_000, `${id} stored`);

/** Proves an earlier request stored nothing: a later event is stored, the earlier ones are not. */
async function expectNothingStoredFrom(ids: string[]) {
  const marker = checkin();
  expect((await post(events(), marker)).status).toBe(202);
  await waitStored(marker.id);
  for (const id of ids) expect(await storedCount(id), id).toBe(0);
}

describe('POST /v1/events accepts', () => {
  it('one event, stored with event time in UTC', async () => {
    const event = checkin({ occurred_at: '2026-11-20T09:30:00+08:00' });
    const res = await post(events(), event);
    expect(res).toEqual({ status: 202, body: { accepted: 1, duplicates: 0, ids: [event.id], duplicate_ids: [] } });
    await waitStored(event.id);
    const [row] = await service.storage.query<{ occurred_at: string; onsite: boolean }>(
      'SELECT occurred_at, onsite FROM events FINAL WHERE id = {id:String}', { id: event.id });
    expect(row).toEqual({ occurred_at: '2026-11-20 01:30:00.000', onsite: true });
  });

  it('a JSON array of every event type', async () => {
    const batch = [checkin(), inspection(), plan(), complaint(), filing()];
    const res = await post(events(), batch);
    expect(res.status).toBe(202);
    expect(res.body.ids).toEqual(batch.map((e) => e.id));
    for (const e of batch) await waitStored(e.id, e.type === 'plan' ? 2 : 1);
  });

  it('NDJSON, skipping blank lines', async () => {
    const batch = [checkin(), inspection(), complaint()];
    const body = batch.map((e) => JSON.stringify(e)).join('\n') + '\n\n';
    const res = await post(events(), body, 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(3);
    for (const e of batch) await waitStored(e.id);
  });

  it('a plan as one row per company it covers', async () => {
    const event = plan({ enterprise_ids: [creditCode('371402', 11), creditCode('371402', 12), creditCode('371402', 11)] });
    expect((await post(events(), event)).status).toBe(202);
    await waitStored(event.id, 2);
  });
});

describe('idempotency', () => {
  it('reports a repeated id as a duplicate and stores it once', async () => {
    const batch = [checkin(), checkin()];
    expect((await post(events(), batch)).body.accepted).toBe(2);
    const retry = await post(events(), batch);
    expect(retry.body).toEqual({ accepted: 0, duplicates: 2, ids: [], duplicate_ids: batch.map((e) => e.id) });
    for (const e of batch) await waitStored(e.id);
  });

  it('counts a repeat inside one request as a duplicate', async () => {
    const event = checkin();
    const res = await post(events(), [event, event]);
    expect(res.body).toMatchObject({ accepted: 1, duplicates: 1, ids: [event.id], duplicate_ids: [event.id] });
    await waitStored(event.id);
  });

  it('stores once even when the ingest-side memory of ids is gone (storage folds the retry)', async () => {
    const event = inspection();
    await post(events(), event);
    await waitStored(event.id);
    const redis = new Redis(service.redisUrl);
    // The test's admin token has no jurisdiction: its ids are remembered under '' and the event's source.
    await redis.del(seenKey(service.config.REDIS_PREFIX, senderKey('', event)));
    redis.disconnect();
    const retry = await post(events(), event);
    expect(retry.body.accepted).toBe(1);
    // Wait until the second copy is in the table, then check FINAL folds it.
    await eventually(async () => {
      const [row] = await service.storage.query<{ n: string }>('SELECT count() AS n FROM events WHERE id = {id:String}', { id: event.id });
      return Number(row!.n) >= 1 ? true : undefined;
    });
    await expectNothingStoredFrom([]);
    expect(await storedCount(event.id)).toBe(1);
  });
});

describe('a batch with any invalid item', () => {
  it('is rejected whole, naming every bad field, and stores nothing', async () => {
    const good = checkin();
    const bad = [
      good,
      checkin({ enterprise_id: '91350100M000100Y44' }),
      inspection({ officer_ids: [] }),
      { ...complaint(), category: 'rude' },
    ];
    const res = await post(events(), bad);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.errors).toEqual([
      { index: 1, field: 'enterprise_id', message: expect.stringMatching(/check character/) },
      { index: 2, field: 'officer_ids', message: expect.stringMatching(/at least one officer/) },
      { index: 3, field: 'category', message: expect.stringMatching(/no_scan/) },
    ]);
    await expectNothingStoredFrom([good.id]);
    // Not remembered as seen either: the corrected batch is accepted.
    expect((await post(events(), good)).body.accepted).toBe(1);
  });
});

describe('validation names each field', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['id empty', checkin({ id: '' }), 'id', /empty/],
    ['id too long', checkin({ id: 'x'.repeat(65) }), 'id', /64/],
    ['id with spaces', checkin({ id: 'a b' }), 'id', /printable/],
    ['type unknown', checkin({ type: 'visit' }), 'type', /checkin, inspection, plan, complaint, filing/],
    ['occurred_at without offset', checkin({ occurred_at: '2026-11-20T09:30:00' }), 'occurred_at', /offset/],
    ['occurred_at not a time', checkin({ occurred_at: 'yesterday' }), 'occurred_at', /RFC 3339/],
    ['occurred_at in the future', checkin({ occurred_at: new Date(Date.now() + 3_600_000).toISOString() }), 'occurred_at', /future/],
    ['region 5 digits', checkin({ region: '37140' }), 'region', /6-digit/],
    ['region unknown province', checkin({ region: '991400' }), 'region', /province/],
    ['source missing', checkin({ source: undefined }), 'source', /required/],
    ['enterprise_id bad check char', checkin({ enterprise_id: '91350100M000100Y44' }), 'enterprise_id', /check character/],
    ['enterprise_id short', checkin({ enterprise_id: '9135010' }), 'enterprise_id', /18 characters/],
    ['enterprise_id lower case', checkin({ enterprise_id: '91350100m000100Y43' }), 'enterprise_id', /alphabet/],
    ['agency_id missing', checkin({ agency_id: undefined }), 'agency_id', /required/],
    ['officer_ids empty', checkin({ officer_ids: [] }), 'officer_ids', /at least one/],
    ['officer id empty', checkin({ officer_ids: [''] }), 'officer_ids.0', /empty/],
    ['action', checkin({ action: 'in' }), 'action', /enter/],
    ['method', checkin({ method: 'nfc' }), 'method', /qr/],
    ['onsite not boolean', checkin({ onsite: 'yes' }), 'onsite', /boolean/],
    ['urgent_reason', checkin({ urgent_reason: 'hurry' }), 'urgent_reason', /emergency/],
    ['location lat', checkin({ location: { lat: 123, lng: 116 } }), 'location.lat', /90/],
    ['unknown field', checkin({ colour: 'red' }), 'colour', /not a known field/],
    ['started_at missing', inspection({ started_at: undefined }), 'started_at', /required/],
    ['ended_at before started_at', inspection({ ended_at: '2026-11-20T08:00:00+08:00' }), 'ended_at', /before started_at/],
    ['outcome', inspection({ outcome: 'fine' }), 'outcome', /penalty/],
    ['enterprise_ids empty', plan({ enterprise_ids: [] }), 'enterprise_ids', /at least one/],
    ['enterprise_ids bad code', plan({ enterprise_ids: [ENTERPRISE, 'X'] }), 'enterprise_ids.1', /18 characters/],
    ['window_start not a date', plan({ window_start: '2026-13-01' }), 'window_start', /date/],
    ['window_end before start', plan({ window_end: '2026-11-01' }), 'window_end', /before window_start/],
    ['mode', plan({ mode: 'remote' }), 'mode', /onsite/],
    ['status', plan({ status: 'draft' }), 'status', /filed/],
    ['channel', complaint({ channel: 'fax' }), 'channel', /12345/],
    ['text too long', complaint({ text: '投'.repeat(4001) }), 'text', /4000/],
  ];
  it.each(cases)('%s', async (_name, event, field, message) => {
    const res = await post(events(), [checkin(), event]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({ index: 1, field, message: expect.stringMatching(message) });
    expect(res.body.errors.every((e: { index: number }) => e.index === 1)).toBe(true);
  });

  it('names the item when it is not an object', async () => {
    const res = await post(events(), [checkin(), 42]);
    expect(res.body.errors).toEqual([{ index: 1, field: '(item)', message: expect.stringMatching(/object/) }]);
  });
});

describe('bad bodies get a clear 4xx, never a 500', () => {
  it('malformed JSON', async () => {
    const res = await post(events(), '{"id": ', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('malformed_json');
  });

  it('a JSON scalar', async () => {
    expect((await post(events(), '"hello"')).status).toBe(400);
  });

  it('malformed NDJSON names the line', async () => {
    const body = `${JSON.stringify(checkin())}\n{oops\n${JSON.stringify(checkin())}`;
    const res = await post(events(), body, 'application/x-ndjson');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ index: 1, field: '', message: expect.stringMatching(/not valid JSON/) }]);
  });

  it('an empty array', async () => {
    const res = await post(events(), []);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('empty_body');
  });

  it('the wrong content type', async () => {
    const res = await post(events(), JSON.stringify(checkin()), 'text/plain');
    expect(res.status).toBe(415);
    expect(res.body.message).toMatch(/application\/json/);
  });

  it('too many events', async () => {
    const res = await post(events(), Array.from({ length: 51 }, () => checkin()));
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/at most 50/);
  });

  it('a body over the byte limit', async () => {
    const res = await post(events(), [complaint({ text: 'x'.repeat(70_000) })]);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
  });

  it('an unknown route', async () => {
    expect((await get(`${service.url}/v1/nothing`)).status).toBe(404);
  });
});

describe('reference data', () => {
  it('upserts companies and agencies and reads them back; the newest version wins', async () => {
    const id = creditCode('370602', 7);
    const company = { enterprise_id: id, name: '烟台市芝罘区海川食品有限公司', region: '370602', credit_grade: 'B', quiet_period: { days_of_month: [-15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1] } };
    const put = (path: string, body: unknown) =>
      fetch(`${service.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });
    expect((await put('/v1/enterprises', [company])).status).toBe(200);
    expect((await put('/v1/enterprises', [{ ...company, credit_grade: 'C' }])).status).toBe(200);
    const read = await get(`${service.url}/v1/enterprises/${id}`);
    expect(read.body).toMatchObject({ ...company, credit_grade: 'C', whitelisted: false });

    const agency = { agency_id: '370600-YJGL', name: '烟台市应急管理局', region: '370600', kind: 'emergency' };
    expect((await put('/v1/agencies', agency)).status).toBe(200);
    expect((await get(`${service.url}/v1/agencies/370600-YJGL`)).body).toMatchObject(agency);
    expect((await get(`${service.url}/v1/agencies/none`)).status).toBe(404);
  });

  it('rejects a bad batch whole, naming the fields', async () => {
    const res = await fetch(`${service.url}/v1/enterprises`, {
      method: 'PUT', headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify([
        { enterprise_id: creditCode('370602', 8), name: '好公司', region: '370602', credit_grade: 'A' },
        { enterprise_id: creditCode('370602', 9), name: '', region: '370602', credit_grade: 'E', quiet_period: { days_of_month: [0] } },
      ]),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors.map((e: { index: number; field: string }) => `${e.index}:${e.field}`))
      .toEqual(['1:name', '1:credit_grade', '1:quiet_period.days_of_month.0']);
    expect((await get(`${service.url}/v1/enterprises/${creditCode('370602', 8)}`)).status).toBe(404);
  });
});

describe('GET /v1/enterprises/{id}/timeline', () => {
  const company = creditCode('371402', 500);
  const at = (day: number, hour: number) => `2026-10-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+08:00`;
  const posted = [
    checkin({ enterprise_id: company, occurred_at: at(5, 9) }),
    inspection({ enterprise_id: company, occurred_at: at(6, 15), started_at: at(5, 9), ended_at: at(5, 10) }),
    checkin({ enterprise_id: company, occurred_at: at(1, 10) }),
    complaint({ enterprise_id: company, occurred_at: at(7, 11) }),
    plan({ enterprise_ids: [company], occurred_at: at(2, 8), window_start: '2026-10-05', window_end: '2026-10-06' }),
    checkin({ enterprise_id: creditCode('371402', 501), occurred_at: at(5, 9) }),
  ];
  const inOrder = [2, 4, 0, 1, 3].map((i) => posted[i]!.id);

  beforeAll(async () => {
    // Posted out of order and in separate requests, as mobile apps do.
    for (const event of posted) expect((await post(events(), event)).status).toBe(202);
    for (const event of posted) await waitStored(event.id);
  });

  it('lists the company’s events in event-time order, in pages', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = `limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await get(`${service.url}/v1/enterprises/${company}/timeline?${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(inOrder);
    expect(pages).toBe(3);
  });

  it('returns each event as accepted, with when it was received', async () => {
    const page = await get(`${service.url}/v1/enterprises/${company}/timeline`);
    const complaintItem = page.body.items.find((e: { type: string }) => e.type === 'complaint');
    expect(complaintItem).toMatchObject({ ...posted[3], received_at: expect.stringMatching(/Z$/) });
  });

  it('filters by from (inclusive) and to (exclusive); a bare date is a day in China', async () => {
    const page = await get(`${service.url}/v1/enterprises/${company}/timeline?from=2026-10-02&to=2026-10-06T15:00:00%2B08:00`);
    expect(page.body.items.map((e: { id: string }) => e.id)).toEqual([posted[4]!.id, posted[0]!.id]);
  });

  it('rejects a bad id, bound, cursor or parameter, naming each', async () => {
    const res = await get(`${service.url}/v1/enterprises/NOT-A-CODE/timeline?from=soon&cursor=zzz&limit=0&colour=red`);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['colour', 'cursor', 'from', 'id', 'limit']);
  });

  it('is empty for a company with no events', async () => {
    const res = await get(`${service.url}/v1/enterprises/${creditCode('371402', 999)}/timeline`);
    expect(res.body).toEqual({ enterprise_id: creditCode('371402', 999), status: 'active', items: [], next_cursor: null });
  });
});

describe('service endpoints', () => {
  it('healthz and readyz', async () => {
    expect((await get(`${service.url}/healthz`)).body).toEqual({ status: 'ok' });
    expect((await get(`${service.url}/readyz`)).body).toEqual({
      status: 'ready', checks: { redis: 'ok', clickhouse: 'ok', migrations: 'ok' },
    });
  });

  it('names its version, without a token, and documents the route', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await fetch(`${service.url}/v1/version`).then((r) => r.json())).toEqual({ version });
    const doc = (await get(`${service.url}/openapi.json`)).body;
    expect(doc.paths['/v1/version'].get).toMatchObject({ 'x-access': 'public', security: [] });
    expect(doc.components.schemas.Version).toMatchObject({ type: 'object', required: ['version'] });
  });

  it('serves an OpenAPI 3 document whose Event schema lists every type', async () => {
    const doc = (await get(`${service.url}/openapi.json`)).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/enterprises', '/v1/agencies', '/v1/enterprises/{id}/timeline']));
    const types = doc.components.schemas.Event.oneOf.map((s: { properties: { type: { const: string } } }) => s.properties.type.const);
    expect(types).toEqual(['checkin', 'inspection', 'plan', 'complaint', 'filing', 'notice', 'evaluation']);
  });
});
