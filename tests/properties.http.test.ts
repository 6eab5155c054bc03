import { randomBytes } from 'node:crypto';
import { METHODS } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_MODES, ALERT_STATUSES, SEVERITIES } from '../src/alerts/model.js';
import { encodeCursor as alertCursor } from '../src/alerts/store.js';
import { ASSIGNEE_KINDS, PRIORITIES, TICKET_SOURCES, TICKET_STATES } from '../src/hotline/model.js';
import { creditCodeCheckChar, creditCodeProblem } from '../src/ingest/credit-code.js';
import { encodeCursor as timelineCursor } from '../src/timeline/store.js';
import { creditCode } from './support/fixtures.js';
import { eventually, startTestService, type TestService } from './support/service.js';

/**
 * Property-based tests (fast-check) against one real service: real Redis, the
 * embedded ClickHouse, real HTTP. Whatever a client sends — valid or mutated
 * events, random bodies, headers, query strings, paths and methods — the
 * service answers without a 5xx, names the bad field, and never stores part
 * of a rejected batch.
 *
 * Every property runs from a fixed seed (QJ_FC_SEED overrides it) and its
 * failure message shows the request, so a failure can be replayed by hand.
 */
const SEED = Number(process.env.QJ_FC_SEED ?? 20261120);
const runs = (n: number) => ({ seed: SEED, numRuns: n, endOnFailure: process.env.QJ_FC_SHRINK === '0' });

// Bearer auth is landing on every route: a 43-character random token, sent with every request.
const TOKEN = randomBytes(32).toString('base64url');
const MAX_BYTES = 1024 * 1024;
const MAX_EVENTS = 100;

let service: TestService;

beforeAll(async () => {
  service = await startTestService({
    QINGJIAN_BOOTSTRAP_TOKEN: TOKEN,
    INGEST_MAX_BYTES: String(MAX_BYTES),
    INGEST_MAX_EVENTS: String(MAX_EVENTS),
    STORE_BATCH_WAIT_MS: '20',
  });
});
afterAll(() => service?.dispose());

// ---------------------------------------------------------------------------------------------
// Requests, and failures that show them
// ---------------------------------------------------------------------------------------------

interface Req {
  method: string;
  /** Path and query, as sent (already encoded). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

interface Res {
  status: number;
  text: string;
  json: any;
}

async function send(req: Req): Promise<Res> {
  const res = await fetch(`${service.url}${req.path}`, {
    method: req.method,
    headers: { authorization: `Bearer ${TOKEN}`, ...req.headers },
    body: req.body as BodyInit | undefined,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: checked where it matters
  }
  return { status: res.status, text, json };
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** The request as a curl command line (body cut short), to replay a failure by hand. */
function show(req: Req): string {
  const headers = Object.entries(req.headers ?? {}).map(([k, v]) => ` -H ${JSON.stringify(`${k}: ${clip(v, 200)}`)}`).join('');
  const body = req.body === undefined ? ''
    : typeof req.body === 'string' ? ` --data-binary ${JSON.stringify(clip(req.body))}`
      : ` --data-binary <${req.body.length} bytes: ${clip(Buffer.from(req.body).toString('hex'), 200)}>`;
  return `curl -X ${req.method} ${JSON.stringify(`$URL${clip(req.path, 400)}`)} -H 'authorization: Bearer $TOKEN'${headers}${body}`;
}

class RequestFailure extends Error {}

function fail(why: string, req: Req, res?: Res): never {
  throw new RequestFailure(`${why}\n    request:  ${show(req)}${res ? `\n    response: ${res.status} ${clip(res.text, 1000)}` : ''}\n    seed: ${SEED}`);
}

function check(ok: unknown, why: string, req: Req, res?: Res): void {
  if (!ok) fail(why, req, res);
}

/** fetch refusing to send something (a header value or method it cannot encode) before any byte reaches the server. */
const refusedByFetch = (err: unknown) => err instanceof TypeError
  && (!/fetch failed/.test(err.message) || (err.cause as { code?: string } | undefined)?.code === 'UND_ERR_INVALID_ARG');

const no5xx = (req: Req, res: Res) => check(res.status < 500, `answered ${res.status}`, req, res);

/** A 4xx the service wrote itself: JSON with an error code and a message saying what was wrong. */
function namesProblem(req: Req, res: Res): void {
  check(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}`, req, res);
  check(res.json && typeof res.json.error === 'string' && res.json.error.length > 0, 'the 4xx has no error code', req, res);
  check(typeof res.json.message === 'string' && res.json.message.length > 0, 'the 4xx has no message', req, res);
  if (res.json.error === 'validation_failed' || res.json.error === 'invalid_request') {
    check(Array.isArray(res.json.errors) && res.json.errors.length > 0, 'a validation failure lists no errors', req, res);
    for (const e of res.json.errors) check(typeof e.field === 'string' && typeof e.message === 'string' && e.message.length > 0, `a bad error entry ${JSON.stringify(e)}`, req, res);
  }
}

// ---------------------------------------------------------------------------------------------
// Valid events, built by hand from the shape of src/ingest/schema.ts
// ---------------------------------------------------------------------------------------------

const PROVINCES = ['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82'];
const CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const URGENT_REASONS = ['emergency', 'complaint', 'case', 'superior', 'public_safety', 'serious_dishonesty', 'life_property', 'public_interest', 'social_impact'];
const PURPOSES = ['inspection', 'research', 'guidance', 'leader_visit'];
const FILING_KINDS = ['quiet_period_check', 'research', 'leader_visit'];
const FILING_OFFICES = ['county_enforcement_office', 'county_party_government_offices'];
const CATEGORIES = ['no_scan', 'frequent', 'no_plan', 'quiet_period', 'misconduct', 'other'];
const OUTCOMES = ['no_issue', 'rectification_ordered', 'penalty', 'case_opened', 'other'];
const ENUMS: Record<string, readonly string[]> = {
  action: ['enter', 'exit'], method: ['qr', 'manual'], urgent_reason: URGENT_REASONS, outcome: OUTCOMES,
  mode: ['onsite', 'offsite'], status: ['filed', 'approved', 'cancelled'], category: CATEGORIES, channel: ['12345', 'app', 'web', 'phone'],
  type: ['checkin', 'inspection', 'plan', 'complaint', 'filing', 'notice', 'evaluation'], purpose: PURPOSES, reviewed_by: ['justice_bureau'],
  kind: FILING_KINDS, filed_with: FILING_OFFICES,
};

const charsOf = (chars: string) => fc.constantFrom(...chars.split(''));
const fixed = (chars: string, n: number) => fc.string({ unit: charsOf(chars), minLength: n, maxLength: n });
const printableAscii = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** 1–64 printable ASCII characters: ids, sources, agencies, officers. Quotes and backslashes included. */
const identifier = fc.string({ unit: printableAscii, minLength: 1, maxLength: 64 });
const regionArb = fc.tuple(fc.constantFrom(...PROVINCES), fixed('0123456789', 4)).map(([p, d]) => p + d);
const creditCodeArb = fc.oneof(
  fc.tuple(fixed('0123456789', 6), fc.integer({ min: 0, max: 999_999_999 })).map(([district, serial]) => creditCode(district, serial)),
  fc.tuple(fixed(CODE_ALPHABET, 2), fixed('0123456789', 6), fixed(CODE_ALPHABET, 9)).map(([a, d, b]) => a + d + b + creditCodeCheckChar(a + d + b)),
);
/** Free text: any Unicode (lone surrogates, NUL, RTL marks, SQL and template look-alikes), cut to max UTF-16 units. */
const SPECIAL_TEXT = ['\ud800', '\udfff', '\u0000', '\u202e', "'; DROP TABLE events; --", '{{agency_name}}', '\\', '"', '𠀀𠀁', '<script>alert(1)</script>', ' '];
const textArb = (max: number) => fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: Math.min(max, 60) }),
  fc.string({ unit: 'binary', maxLength: Math.min(max, 60) }),
  fc.constantFrom(...SPECIAL_TEXT),
  fc.integer({ min: 0, max }).map((n) => '投'.repeat(n)),
).map((s) => s.slice(0, max));

const NOW = Date.now();
const YEAR_0 = Date.parse('0000-01-01T00:00:00Z');
/** Events may happen from 1900 (what storage holds; a wall clock a day later is past 1900 at any offset). */
const EARLIEST_EVENT = Date.parse('1900-01-02T00:00:00Z');
/** Wall-clock milliseconds: mostly the last decade, sometimes any time since `earliest`. */
const wallArb = (latest = NOW - 86_400_000, earliest = EARLIEST_EVENT) => fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: Date.UTC(2016, 0, 1), max: latest }) },
  { weight: 1, arbitrary: fc.integer({ min: earliest, max: latest }) },
);
const offsetArb = fc.oneof(fc.constant<number | 'Z'>('Z'), fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }));
const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** An RFC 3339 time with an offset: a wall-clock time, an offset (Z or ±hh:mm) and 0–9 fraction digits. */
function rfc3339(wall: number, offset: number | 'Z', digits: number): string {
  const iso = new Date(wall).toISOString();
  const fraction = digits === 0 ? '' : `.${`${iso.slice(20, 23)}${'070809'}`.slice(0, digits)}`;
  const zone = offset === 'Z' ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  return `${iso.slice(0, 19)}${fraction}${zone}`;
}
const timeArb = (latest?: number, earliest?: number) => fc.tuple(wallArb(latest, earliest), offsetArb, fc.integer({ min: 0, max: 9 })).map(([w, o, d]) => rfc3339(w, o, d));
const dateArb = (earliest: number, latest: number) => fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: Date.UTC(2016, 0, 1), max: Date.UTC(2030, 0, 1) }) },
  { weight: 1, arbitrary: fc.integer({ min: earliest, max: latest }) },
).map((ms) => new Date(ms).toISOString().slice(0, 10));
/** Plan windows: the dates storage's Date column holds. */
const planDateArb = dateArb(Date.UTC(1970, 0, 1), Date.UTC(2149, 5, 6));

const officers = fc.array(identifier, { minLength: 1, maxLength: 50 });
const common = { id: identifier, occurred_at: timeArb(), region: regionArb, source: identifier };

const checkinArb = fc.record({
  ...common,
  type: fc.constant('checkin'),
  enterprise_id: creditCodeArb,
  agency_id: identifier,
  officer_ids: officers,
  action: fc.constantFrom('enter', 'exit'),
  method: fc.constantFrom('qr', 'manual'),
  onsite: fc.boolean(),
  purpose: fc.constantFrom(...PURPOSES),
  plan_id: identifier,
  urgent_reason: fc.constantFrom(...URGENT_REASONS),
  national_basis: textArb(200),
  location: fc.record({
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lng: fc.double({ min: -180, max: 180, noNaN: true }),
    address: textArb(200),
  }, { requiredKeys: ['lat', 'lng'] }),
}, { requiredKeys: ['id', 'type', 'occurred_at', 'region', 'source', 'enterprise_id', 'agency_id', 'officer_ids', 'action', 'method'] });

const inspectionArb = fc.record({
  ...common,
  type: fc.constant('inspection'),
  enterprise_id: creditCodeArb,
  agency_id: identifier,
  officer_ids: officers,
  started_at: timeArb(),
  ended_at: timeArb(),
  onsite: fc.boolean(),
  purpose: fc.constantFrom(...PURPOSES),
  plan_id: identifier,
  urgent_reason: fc.constantFrom(...URGENT_REASONS),
  national_basis: textArb(200),
  outcome: fc.constantFrom(...OUTCOMES),
}, { requiredKeys: ['id', 'type', 'occurred_at', 'region', 'source', 'enterprise_id', 'agency_id', 'officer_ids', 'started_at'] })
  .map((e) => (e.ended_at !== undefined && Date.parse(e.ended_at) < Date.parse(e.started_at) ? { ...e, ended_at: e.started_at } : e));

const planArb = fc.record({
  ...common,
  type: fc.constant('plan'),
  agency_id: identifier,
  enterprise_ids: fc.array(creditCodeArb, { minLength: 1, maxLength: 8 }).chain((ids) =>
    fc.boolean().map((repeat) => (repeat ? [...ids, ids[0]!] : ids))), // a company named twice is stored once
  window_start: planDateArb,
  window_end: planDateArb,
  mode: fc.constantFrom('onsite', 'offsite'),
  status: fc.constantFrom('filed', 'approved', 'cancelled'),
  plan_id: identifier,
  reviewed_by: fc.constant('justice_bureau'),
  urgent_reason: fc.constantFrom(...URGENT_REASONS),
  joint_agency_ids: fc.array(identifier, { maxLength: 20 }),
  matters: fc.array(textArb(200), { maxLength: 50 }),
}, { requiredKeys: ['id', 'type', 'occurred_at', 'region', 'source', 'agency_id', 'enterprise_ids', 'window_start', 'window_end', 'mode', 'status'] })
  .map((e) => (e.window_end < e.window_start ? { ...e, window_start: e.window_end, window_end: e.window_start } : e));

const complaintArb = fc.record({
  ...common,
  type: fc.constant('complaint'),
  enterprise_id: creditCodeArb,
  agency_id: identifier,
  category: fc.constantFrom(...CATEGORIES),
  channel: fc.constantFrom('12345', 'app', 'web', 'phone'),
  text: textArb(4000),
  checkin_id: identifier,
}, { requiredKeys: ['id', 'type', 'occurred_at', 'region', 'source', 'enterprise_id', 'category', 'channel', 'text'] });

const filingArb = fc.record({
  ...common,
  type: fc.constant('filing'),
  agency_id: identifier,
  enterprise_id: creditCodeArb,
  kind: fc.constantFrom(...FILING_KINDS),
  filed_with: fc.constantFrom(...FILING_OFFICES),
  visit_date: planDateArb,
  approved_by: identifier,
  plan_id: identifier,
  note: textArb(500),
}, { requiredKeys: ['id', 'type', 'occurred_at', 'region', 'source', 'agency_id', 'enterprise_id', 'kind', 'filed_with', 'visit_date'] })
  // A quiet-period check needs the head's approval; research and leaders' visits may name one or not.
  .chain((e) => (e.kind === 'quiet_period_check' && e.approved_by === undefined ? identifier.map((approved_by) => ({ ...e, approved_by })) : fc.constant(e)));

type Ev = Record<string, any>;
const eventArb: fc.Arbitrary<Ev> = fc.oneof(checkinArb, inspectionArb, planArb, complaintArb, filingArb);

const REQUIRED: Record<string, string[]> = {
  checkin: ['enterprise_id', 'agency_id', 'officer_ids', 'action', 'method'],
  inspection: ['enterprise_id', 'agency_id', 'officer_ids', 'started_at'],
  plan: ['agency_id', 'enterprise_ids', 'window_start', 'window_end', 'mode', 'status'],
  complaint: ['enterprise_id', 'category', 'channel', 'text'],
  filing: ['agency_id', 'enterprise_id', 'kind', 'filed_with', 'visit_date'],
};
const KNOWN: Record<string, string[]> = {
  checkin: ['onsite', 'purpose', 'plan_id', 'urgent_reason', 'national_basis', 'location'],
  inspection: ['ended_at', 'onsite', 'purpose', 'plan_id', 'urgent_reason', 'national_basis', 'outcome', 'matters', 'remedies', 'credit_repair'],
  plan: ['plan_id', 'reviewed_by', 'urgent_reason', 'joint_agency_ids', 'matters'],
  complaint: ['agency_id', 'checkin_id'],
  filing: ['approved_by', 'plan_id', 'note'],
};
const COMMON = ['id', 'type', 'occurred_at', 'region', 'source'];
const knownFields = (type: string) => [...COMMON, ...REQUIRED[type]!, ...KNOWN[type]!];

let sequence = 0;
/** Client ids stay as generated (any printable ASCII) but unique per request: runs and shrinks never collide. */
function uniqueIds(events: Ev[]): Ev[] {
  const run = `p${process.pid.toString(36)}.${(++sequence).toString(36)}.`;
  return events.map((e, i) => ({ ...e, id: `${run}${i}.${e.id}`.slice(0, 64) }));
}

type Encoding = 'array' | 'ndjson' | 'single';
function encode(items: unknown[], encoding: Encoding): { body: string; contentType: string } {
  if (encoding === 'ndjson') return { body: items.map((i) => JSON.stringify(i)).join('\n'), contentType: 'application/x-ndjson' };
  if (encoding === 'single' && items.length === 1) return { body: JSON.stringify(items[0]), contentType: 'application/json' };
  return { body: JSON.stringify(items), contentType: 'application/json' };
}
const postEvents = (items: unknown[], encoding: Encoding): Req => {
  const { body, contentType } = encode(items, encoding);
  return { method: 'POST', path: '/v1/events', headers: { 'content-type': contentType }, body };
};

/** Rows stored per id (FINAL: after the storage-side folding of repeats), with the columns accepted times land in. */
async function stored(ids: string[]): Promise<Map<string, Array<{ occurred_at: string; window_start: string | null; window_end: string | null }>>> {
  const rows = ids.length === 0 ? [] : await service.storage.query<{ id: string; occurred_at: string; window_start: string | null; window_end: string | null }>(
    'SELECT id, occurred_at, window_start, window_end FROM events FINAL WHERE id IN {ids:Array(String)}', { ids });
  const byId = new Map<string, typeof rows>();
  for (const row of rows) byId.set(row.id, [...(byId.get(row.id) ?? []), row]);
  return byId;
}

const storedInstant = (clickhouseTime: string) => Date.parse(`${clickhouseTime.replace(' ', 'T')}Z`);
/** What storage should hold for an RFC 3339 time: the instant, to the millisecond (extra digits cut). */
const expectedInstant = (rfc: string) => Date.parse(rfc.replace(/(\.\d{3})\d+/, '$1'));

describe(`properties of POST /v1/events (seed ${SEED})`, () => {
  it('1. arbitrary valid events are accepted (202) and each is stored exactly once, as accepted, even when the batch is posted twice', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(eventArb, { minLength: 1, maxLength: 6 }),
      fc.constantFrom<Encoding>('array', 'ndjson', 'single'),
      fc.boolean(),
      async (generated, encoding, repeatInside) => {
        const events = uniqueIds(generated);
        const items = repeatInside ? [...events, events[0]!] : events;
        const req = postEvents(items, encoding);
        const first = await send(req);
        check(first.status === 202, `valid events answered ${first.status}`, req, first);
        const ids = events.map((e) => e.id);
        check(JSON.stringify(first.json.ids) === JSON.stringify(ids), `accepted ids ${JSON.stringify(first.json.ids)}`, req, first);
        check(first.json.duplicates === (repeatInside ? 1 : 0), 'the repeat inside the request is not the one duplicate', req, first);

        const retry = await send(req);
        check(retry.status === 202 && retry.json.accepted === 0 && retry.json.duplicates === items.length, 'the retry was not all duplicates', req, retry);

        const rowsPerId = (e: Ev) => (e.type === 'plan' ? new Set(e.enterprise_ids).size : 1);
        const rows = await eventually(async () => {
          const byId = await stored(ids);
          return events.every((e) => (byId.get(e.id)?.length ?? 0) >= rowsPerId(e)) ? byId : undefined;
        }, 20_000, `${ids.length} events stored`).catch((err: Error) => fail(err.message, req));
        await new Promise((r) => setTimeout(r, 30)); // a second copy would come in the same or the next batch
        const again = await stored(ids);
        for (const e of events) {
          const own = again.get(e.id) ?? rows.get(e.id)!;
          check(own.length === rowsPerId(e), `${e.id} stored ${own.length} times, expected ${rowsPerId(e)}`, req);
          for (const row of own) {
            check(storedInstant(row.occurred_at) === expectedInstant(e.occurred_at),
              `${e.id}: occurred_at ${e.occurred_at} stored as ${row.occurred_at}`, req);
            if (e.type === 'plan') {
              check(row.window_start === e.window_start && row.window_end === e.window_end,
                `${e.id}: window ${e.window_start}..${e.window_end} stored as ${row.window_start}..${row.window_end}`, req);
            }
            if (e.type === 'filing') {
              check(row.window_start === e.visit_date && row.window_end === e.visit_date,
                `${e.id}: visit_date ${e.visit_date} stored as ${row.window_start}..${row.window_end}`, req);
            }
          }
        }
        // Every stored complaint opens a hotline ticket, whatever its text (a ticket job that cannot be stored retries for ever).
        const complaints = events.filter((e) => e.type === 'complaint').map((e) => e.id);
        if (complaints.length > 0) {
          await eventually(async () => {
            const [row] = await service.storage.query<{ n: string }>(
              "SELECT count(DISTINCT source_id) AS n FROM tickets FINAL WHERE source = 'complaint' AND source_id IN {ids:Array(String)}", { ids: complaints });
            return Number(row!.n) === complaints.length ? true : undefined;
          }, 20_000, `tickets for ${complaints.join(', ')}`).catch((err: Error) => fail(err.message, req));
        }
      },
    ), runs(25));
  });

  it('1. arbitrary valid companies, agencies and silences (any Unicode text) are accepted, never a 5xx', async () => {
    const name = textArb(200).filter((n) => n.length > 0);
    const reason = textArb(500).filter((r) => r.trim().length > 0);
    const request = fc.oneof(
      fc.record({ enterprise_id: creditCodeArb, name, region: regionArb, credit_grade: fc.constantFrom('A', 'B', 'C', 'D'), whitelisted: fc.boolean() })
        .map((body): [Req, number] => [{ method: 'PUT', path: '/v1/enterprises', headers: { 'content-type': 'application/json' }, body: JSON.stringify([body]) }, 200]),
      fc.record({ agency_id: identifier, name, region: regionArb, kind: identifier })
        .map((body): [Req, number] => [{ method: 'PUT', path: '/v1/agencies', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, 200]),
      fc.record({ rule: identifier, reason, created_by: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((a) => a.trim().length > 0 && a.trim().length <= 64), minutes: fc.integer({ min: 1, max: 60 }) })
        .map(({ rule, reason: why, created_by, minutes }): [Req, number] => [{
          method: 'POST', path: '/v1/silences', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ matchers: { rule }, reason: why, created_by, duration_minutes: minutes }),
        }, 201]),
    );
    await fc.assert(fc.asyncProperty(request, async ([req, expected]) => {
      const res = await send(req);
      no5xx(req, res);
      check(res.status === expected, `expected ${expected}, got ${res.status}`, req, res);
    }), runs(60));
  });

  // ---- 2. mutated events ------------------------------------------------------------------

  interface Mutated { item: unknown; field: string; what: string }
  type Mutation = (e: Ev, pick: number, value: unknown) => Mutated | null;

  const wrongTypeOf = (v: unknown, pick: number): unknown => {
    const options: unknown[] = typeof v === 'string' ? [42, true, null, ['x'], { x: 1 }]
      : typeof v === 'boolean' ? ['true', 1, null, [true], {}]
        : typeof v === 'number' ? [String(v), null, true, [v], {}]
          : Array.isArray(v) ? ['x', 1, null, { 0: 'x' }, true]
            : ['x', 1, null, [], true];
    return options[pick % options.length];
  };

  /** Paths of every string inside an event (nested ones included): where a huge string can go. */
  function stringPaths(e: Ev): string[][] {
    const out: string[][] = [];
    const walk = (v: unknown, path: string[]) => {
      if (typeof v === 'string') out.push(path);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(e, []);
    return out;
  }

  function setAt(e: Ev, path: string[], value: unknown): Ev {
    const copy = structuredClone(e);
    let node: any = copy;
    for (const key of path.slice(0, -1)) node = node[key];
    node[path.at(-1)!] = value;
    return copy;
  }

  /** An own, enumerable key JSON.stringify writes out, even `__proto__`. */
  function withOwnKey(e: Ev, key: string, value: unknown): Ev {
    const copy = structuredClone(e);
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
  }

  const nested = (depth: number, kind: number): unknown =>
    JSON.parse(kind % 2 === 0 ? `${'['.repeat(depth)}"x"${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

  const BAD_TIMES = ['yesterday', '2026-02-30T10:00:00+08:00', '2026-11-20T09:30:00', '2026-11-20 09:30:00+08:00',
    '2026-11-20T24:00:00Z', '', '2026-11-20T09:30:00+8:00', '20261120T093000Z', '2026-11-20T09:30:00.+08:00', '١٢٣',
    // RFC 3339, but outside what storage holds (year 0 at +08:00 is year -1 in UTC: an insert ClickHouse refuses)
    '0000-01-01T00:00:00+08:00', '1899-12-31T23:59:59.999Z', '2200-01-01T00:00:00Z', '9999-12-31T23:59:59-12:00'];
  const BAD_DATES = ['2026-13-01', '2026-02-29', '26-11-01', '2026-1-1', '', '2026-11-20T00:00:00Z', 'today',
    '1969-12-31', '2149-06-07', '0000-01-01', '9999-12-31'];
  const BAD_CODES = (good: string, pick: number) => {
    const wrongCheck = CODE_ALPHABET[(CODE_ALPHABET.indexOf(good[17]!) + 1 + (pick % 30)) % 31]!;
    const options = [good.slice(0, 17) + wrongCheck, good.toLowerCase().replace(/^(.)/, 'a'), good.slice(0, 17), `${good}0`,
      `${good.slice(0, 2)}I${good.slice(3)}`, `${good.slice(0, 3)}Q${good.slice(4)}`, ''];
    return options[pick % options.length]!;
  };

  const mutations: Record<string, Mutation> = {
    'drop a required field': (e, pick) => {
      const fields = [...COMMON, ...REQUIRED[e.type]!];
      const field = fields[pick % fields.length]!;
      const { [field]: _dropped, ...rest } = e;
      return { item: rest, field, what: `without ${field}` };
    },
    'wrong type': (e, pick) => {
      const fields = Object.keys(e);
      const field = fields[pick % fields.length]!;
      if (field === 'location' && pick % 3 === 0) return { item: setAt(e, ['location', 'lat'], wrongTypeOf(1, pick >> 2)), field: 'location.lat', what: 'location.lat of a wrong type' };
      return { item: setAt(e, [field], wrongTypeOf(e[field], pick >> 3)), field, what: `${field} of a wrong type` };
    },
    'not in its enum': (e, pick, value) => {
      const fields = Object.keys(e).filter((f) => ENUMS[f]);
      const field = fields[pick % fields.length]!;
      const bad = typeof value === 'string' && !ENUMS[field]!.includes(value) ? value : `${e[field]}_x`;
      return { item: setAt(e, [field], bad), field, what: `${field} = ${JSON.stringify(bad)}` };
    },
    'out of range': (e, pick) => {
      const options: Array<[string[], unknown, string]> = [[['region'], '37140', 'region'], [['region'], '991400', 'region'], [['region'], '37140x', 'region']];
      if (e.officer_ids) options.push([['officer_ids'], [], 'officer_ids'], [['officer_ids'], Array.from({ length: 51 }, (_, i) => `o${i}`), 'officer_ids'],
        [['officer_ids'], [...e.officer_ids, 'a b'], `officer_ids.${e.officer_ids.length}`], [['officer_ids', '0'], '', 'officer_ids.0']);
      if (e.location) options.push([['location', 'lat'], 90.0001 + pick, 'location.lat'], [['location', 'lng'], -180.5 - pick, 'location.lng'],
        [['location', 'lat'], 1e308, 'location.lat']);
      if (e.type === 'plan') {
        options.push([['enterprise_ids'], [], 'enterprise_ids'], [['enterprise_ids'], Array.from({ length: 1001 }, () => e.enterprise_ids[0]), 'enterprise_ids'],
          [['joint_agency_ids'], Array.from({ length: 21 }, (_, i) => `a${i}`), 'joint_agency_ids'],
          [['matters'], Array.from({ length: 51 }, () => 'm'), 'matters'], [['matters'], ['ok', 'm'.repeat(201)], 'matters.1']);
      }
      if (e.type === 'complaint') options.push([['text'], '投'.repeat(4001), 'text']);
      if (e.type === 'filing') options.push([['note'], '注'.repeat(501), 'note']);
      if (e.type === 'checkin' || e.type === 'inspection') options.push([['national_basis'], '法'.repeat(201), 'national_basis']);
      if (e.location?.address !== undefined) options.push([['location', 'address'], 'a'.repeat(201), 'location.address']);
      options.push([['id'], 'x'.repeat(65), 'id'], [['id'], 'a b', 'id'], [['source'], 'é', 'source']);
      const [path, value, field] = options[pick % options.length]!;
      return { item: setAt(e, path, value), field, what: `${path.join('.')} out of range` };
    },
    'bad credit code check character': (e, pick) => {
      if (e.enterprise_id) return { item: setAt(e, ['enterprise_id'], BAD_CODES(e.enterprise_id, pick)), field: 'enterprise_id', what: 'a bad enterprise_id' };
      const i = pick % e.enterprise_ids.length;
      return { item: setAt(e, ['enterprise_ids', String(i)], BAD_CODES(e.enterprise_ids[i], pick >> 3)), field: `enterprise_ids.${i}`, what: 'a bad company in enterprise_ids' };
    },
    'bad date': (e, pick) => {
      const options: Array<[string, unknown]> = [['occurred_at', BAD_TIMES[pick % BAD_TIMES.length]],
        ['occurred_at', rfc3339(Date.now() + 86_400_000 + pick * 60_000, pick % 2 ? 'Z' : 480, 0)]];
      if (e.type === 'inspection') {
        options.push(['started_at', BAD_TIMES[pick % BAD_TIMES.length]], ['ended_at', BAD_TIMES[(pick >> 2) % BAD_TIMES.length]],
          ['ended_at', rfc3339(Date.parse(e.started_at) - 60_000 * (1 + (pick % 1000)), 'Z', 0)]);
      }
      if (e.type === 'filing') options.push(['visit_date', BAD_DATES[pick % BAD_DATES.length]]);
      if (e.type === 'plan') {
        options.push(['window_start', BAD_DATES[pick % BAD_DATES.length]], ['window_end', BAD_DATES[(pick >> 2) % BAD_DATES.length]]);
        if (e.window_start > '0001-01-02') {
          const before = new Date(Date.parse(`${e.window_start}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
          options.push(['window_end', before]);
        }
      }
      const [field, value] = options[pick % options.length]!;
      return { item: setAt(e, [field], value), field, what: `${field} = ${JSON.stringify(value)}` };
    },
    'huge string': (e, pick, value) => {
      const paths = stringPaths(e);
      const path = paths[pick % paths.length]!;
      const unit = typeof value === 'string' && value.length > 0 ? value.slice(0, 2) : '投';
      return { item: setAt(e, path, unit.repeat(Math.max(4001, (pick % 60) * 1000))), field: path.join('.'), what: `a huge ${path.join('.')}` };
    },
    'unknown field': (e, pick, value) => {
      const key = typeof value === 'string' && value.length > 0 && !knownFields(e.type).includes(value) ? value : `colour${pick}`;
      if (e.location && pick % 4 === 0 && !['lat', 'lng', 'address'].includes(key)) {
        return { item: setAt(e, ['location', key], value ?? 1), field: `location.${key}`, what: `unknown location.${key}` };
      }
      return { item: withOwnKey(e, key, value ?? 1), field: key, what: `unknown field ${JSON.stringify(key)}` };
    },
    // Within the nesting any request may have (MAX_JSON_DEPTH, with the batch and the event around it); deeper bodies are property 3's.
    'nested garbage': (e, pick) => {
      const fields = Object.keys(e);
      const field = fields[pick % fields.length]!;
      return { item: setAt(e, [field], nested(1 + (pick % 28), pick >> 11)), field, what: `${field} nested ${1 + (pick % 28)} deep` };
    },
    'prototype pollution key': (e, pick) => {
      const keys = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'valueOf', '__lookupSetter__'];
      const key = keys[pick % keys.length]!;
      const values = [{ polluted: 'yes' }, { type: 'checkin', id: 'x' }, 'x', null, { prototype: { polluted: 'yes' } }];
      const value = values[(pick >> 3) % values.length];
      if (e.location && (pick >> 6) % 2 === 0) {
        const location = structuredClone(e.location);
        Object.defineProperty(location, key, { value, enumerable: true, writable: true, configurable: true });
        return { item: { ...e, location }, field: `location.${key}`, what: `location.${key}` };
      }
      return { item: withOwnKey(e, key, value), field: key, what: `key ${key}` };
    },
    'not an object': (_e, pick) => ({ item: [42, null, 'event', [], true, 0.5][pick % 6], field: '(item)', what: 'an item that is not an object' }),
  };

  const validIdsOfRejected: Array<{ ids: string[]; req: Req }> = [];

  it('2. one mutated event in a valid batch: 400 naming its index and field, never a 5xx, and nothing of the batch stored', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(eventArb, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      fc.constantFrom(...Object.keys(mutations)),
      fc.nat(),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('__proto__', 'Type', 'ENTER', ' enter', 'toString', 'a.b', '𠀀', '0'), fc.jsonValue({ maxDepth: 2 })),
      fc.constantFrom<Encoding>('array', 'ndjson', 'single'),
      async (generated, where, mutation, pick, value, encoding) => {
        const events = uniqueIds(generated);
        const index = where % events.length;
        const mutated = mutations[mutation]!(events[index]!, pick, value)!;
        const items: unknown[] = events.map((e, i) => (i === index ? mutated.item : e));
        // A lone body that is not an object is not a batch with a bad item (property 3 covers it).
        const req = postEvents(items, mutation === 'not an object' && encoding === 'single' ? 'array' : encoding);
        const res = await send(req);
        no5xx(req, res);
        const what = `${mutation} (${mutated.what}) of item ${index}`;
        check(res.status === 400, `${what}: expected 400, got ${res.status}`, req, res);
        namesProblem(req, res);
        check(res.json.error === 'validation_failed', `${what}: error ${res.json.error}`, req, res);
        const named = (res.json.errors as Array<{ index: number; field: string }>).some((e) =>
          e.index === index && (e.field === mutated.field || e.field.startsWith(`${mutated.field}.`)));
        check(named, `${what}: no error names index ${index}, field ${JSON.stringify(mutated.field)}`, req, res);
        check(res.json.errors.every((e: { index: number }) => e.index === index), `${what}: an error blames a valid item`, req, res);
        validIdsOfRejected.push({ ids: events.map((e) => e.id), req });
      },
    ), runs(200));

    // Nothing polluted the prototypes of this process (the service runs in it).
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');

    // A marker posted afterwards is stored: the pipeline has had its time, and no event of a rejected batch is there.
    const marker = uniqueIds([fc.sample(checkinArb, { seed: SEED, numRuns: 1 })[0]!])[0]!;
    const markerReq = postEvents([marker], 'single');
    expect((await send(markerReq)).status).toBe(202);
    await eventually(async () => ((await stored([marker.id])).size === 1 ? true : undefined), 20_000, 'marker stored');
    const storedIds = await stored(validIdsOfRejected.flatMap((r) => r.ids));
    for (const { ids, req } of validIdsOfRejected) {
      const leaked = ids.filter((id) => storedIds.has(id));
      check(leaked.length === 0, `a rejected batch was partly stored: ${leaked.join(', ')}`, req);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. arbitrary bodies
// ---------------------------------------------------------------------------------------------

const BODY_ROUTES: Array<[string, string]> = [
  ['POST', '/v1/events'], ['PUT', '/v1/enterprises'], ['PUT', '/v1/agencies'], ['POST', '/v1/silences'],
  ['POST', '/v1/silences/no-such-silence/expire'], ['POST', '/v1/alerts/no-such-alert/ack'], ['POST', '/v1/alerts/no-such-alert/resolve'],
  ['POST', '/v1/hotline/tickets/no-such-ticket/claim'], ['POST', '/v1/hotline/tickets/no-such-ticket/assign'],
];
const CONTENT_TYPES = ['application/json', 'application/x-ndjson', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain',
  'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/ndjson', 'application/jsonl', 'application/json-patch+json',
  'application/json; charset=utf-16', ';', ' application/json ', 'application/xml'];

const brokenNdjson = fc.tuple(fc.array(eventArb, { minLength: 1, maxLength: 4 }), fc.nat(), fc.constantFrom('{oops', '[1,', '"unterminated', '}', 'nul', '{"id": 1,}', '\u0000', '{"a":1}{"b":2}', 'NaN', "{'id': 'x'}"))
  .map(([events, at, garbage]) => {
    const lines = uniqueIds(events).map((e) => JSON.stringify(e));
    lines.splice(at % (lines.length + 1), 0, garbage);
    return lines.join('\n');
  });
const deeplyNested = fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.nat(3)).map(([depth, kind]) =>
  [`${'['.repeat(depth)}${']'.repeat(depth)}`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, '['.repeat(depth), `[${'{"a":['.repeat(depth)}`][kind]!);
const bodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((b) => ({ body: b as Uint8Array | string, kind: 'random bytes' })),
  fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => ({ body: s as Uint8Array | string, kind: 'random text' })),
  fc.jsonValue({ maxDepth: 6 }).map((v) => ({ body: JSON.stringify(v) ?? 'null', kind: 'a random JSON value' })),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }).map((vs) => ({ body: vs.map((v) => JSON.stringify(v)).join('\n'), kind: 'random JSON lines' })),
  brokenNdjson.map((body) => ({ body: body as Uint8Array | string, kind: 'NDJSON with a broken line' })),
  deeplyNested.map((body) => ({ body: body as Uint8Array | string, kind: 'deeply nested JSON' })),
  fc.constantFrom('', ' ', '\n\n', '[]', '{}', 'null', '[null]', '[[]]', '\ufeff{}', '{"__proto__": {"polluted": "yes"}}', '[{"constructor": {"prototype": {"polluted": "yes"}}}]')
    .map((body) => ({ body: body as Uint8Array | string, kind: 'an edge case' })),
);

describe(`properties of request bodies (seed ${SEED})`, () => {
  it('3. random bytes, text, JSON, broken NDJSON, deep nesting, empty bodies and wrong content types: a 4xx naming the problem', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...BODY_ROUTES),
      bodyArb,
      fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.string({ unit: printableAscii, maxLength: 40 })),
      async ([method, path], { body, kind }, contentType) => {
        const req: Req = { method, path, headers: { 'content-type': contentType }, body };
        const res = await send(req);
        no5xx(req, res);
        check(res.status !== 202 && res.status !== 200 && res.status !== 201, `${kind} was accepted`, req, res);
        namesProblem(req, res);
      },
    ), runs(250));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('3. a body over INGEST_MAX_BYTES and a batch over INGEST_MAX_EVENTS: 413 naming the limit', async () => {
    for (const [method, path] of BODY_ROUTES) {
      const req: Req = { method, path, headers: { 'content-type': 'application/json' }, body: `["${'x'.repeat(MAX_BYTES)}"]` };
      const res = await send(req);
      check(res.status === 413 && res.json?.error === 'body_too_large', `expected 413 body_too_large, got ${res.status}`, req, res);
    }
    const many = uniqueIds(fc.sample(checkinArb, { seed: SEED, numRuns: MAX_EVENTS + 1 }));
    const req = postEvents(many, 'ndjson');
    const res = await send(req);
    check(res.status === 413 && /at most 100/.test(res.json?.message), `expected 413 too_many_items, got ${res.status}`, req, res);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. headers, framing and query strings
// ---------------------------------------------------------------------------------------------

const MEDIA = new Set(['application/json', 'application/x-ndjson', 'application/ndjson', 'application/jsonl']);
/** The HTTP server's whole-header limit (Node's default --max-http-header-size): past it, 431 is right. */
const HEADER_LIMIT = 16 * 1024;

const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'v'.repeat(n)),
  fc.constantFrom('*/*', 'application/json;q=0.1, text/html', 'gzip, br', 'identity;q=0', '', 'bytes=0-10', '"etag"', 'null', '-1'),
);
const headerName = fc.oneof(
  fc.constantFrom('accept', 'accept-language', 'accept-encoding', 'accept-charset', 'content-encoding', 'content-language', 'cookie',
    'user-agent', 'referer', 'origin', 'if-none-match', 'if-modified-since', 'range', 'x-forwarded-for', 'x-forwarded-proto',
    'x-request-id', 'x-http-method-override', 'forwarded', 'cache-control', 'pragma', 'x-real-ip', 'dnt'),
  fc.string({ unit: charsOf('abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&\'*+.^`|~'), minLength: 1, maxLength: 30 }).map((n) => `x-${n}`),
);
const randomHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 });
const contentTypeArb = fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue);
const headerBytes = (headers: Record<string, string>) => Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

interface Param { key: string; value: string; verdict: 'good' | 'bad' | 'either' }
type Verdict = Param['verdict'];
const KEY_GOOD = 'good' as const;

const enumParam = (values: readonly string[]) => fc.oneof(
  fc.constantFrom(...values).map((value) => ({ value, verdict: KEY_GOOD as Verdict })),
  fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'ACTIVE', 'open ', 'toString', '__proto__'))
    .filter((v) => !values.includes(v)).map((value) => ({ value, verdict: 'bad' as Verdict })),
);
/** Lone surrogates cannot be percent-encoded: what a URL carries is well-formed. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const anyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }).map(wellFormed),
  fc.integer({ min: 60, max: 2000 }).map((n) => 'q'.repeat(n)),
  fc.constantFrom('', ' ', "'", '\\', '%', '%zz', '\u0000', '𠀀', '1e309', '-1', 'null', '[]', '{}', '__proto__'),
);
const lengthParam = (min: number, max: number, trim = false) => anyString.map((value) => {
  const n = (trim ? value.trim() : value).length;
  return { value, verdict: (n >= min && n <= max ? 'good' : 'bad') as Verdict };
});
const regionParam = fc.oneof(fc.stringMatching(/^\d{2,6}$/), anyString)
  .map((value) => ({ value, verdict: (/^\d{2,6}$/.test(value) ? 'good' : 'bad') as Verdict }));
const identifierParam = fc.oneof(identifier, anyString)
  .map((value) => ({ value, verdict: (/^[\x21-\x7e]{1,64}$/.test(value) ? 'good' : 'bad') as Verdict }));
const creditCodeParam = fc.oneof(
  creditCodeArb.map((value) => ({ value, verdict: KEY_GOOD as Verdict })),
  fc.oneof(
    fc.tuple(creditCodeArb, fc.nat()).map(([code, pick]) => nearCode(code, pick)),
    anyString,
  ).map((value) => ({ value, verdict: (creditCodeProblem(value) === null ? 'good' : 'bad') as Verdict })),
);
/** A valid code changed a little: the check character, the case, a character dropped. */
function nearCode(good: string, pick: number): string {
  const wrongCheck = CODE_ALPHABET[(CODE_ALPHABET.indexOf(good[17]!) + 1 + (pick % 30)) % 31]!;
  return [good.slice(0, 17) + wrongCheck, good.toLowerCase(), good.slice(1)][pick % 3]!;
}
/** Times: RFC 3339 with offset or a bare date are good at any year a client can write; the rest is bad. */
const timeParam = fc.oneof(
  timeArb(Date.UTC(9999, 11, 30), YEAR_0).map((value) => ({ value, verdict: KEY_GOOD as Verdict })),
  dateArb(YEAR_0, Date.UTC(9999, 11, 31)).map((value) => ({ value, verdict: KEY_GOOD as Verdict })),
  fc.constantFrom('0000-01-01', '0000-01-01T00:00:00+08:00', '9999-12-31', '9999-12-31T23:59:59-12:00', '1899-12-31', '1970-01-01T00:00:00Z')
    .map((value) => ({ value, verdict: KEY_GOOD as Verdict })),
  fc.oneof(fc.constantFrom('soon', '2026-02-30', '2026-11-20T09:30:00', '2026-13-01', '1e12', '-1', '', '2026-11-20T09:30:00+25:00', 'NaN'), anyString)
    .filter((v) => !/^\d{4}-\d\d-\d\d/.test(v)).map((value) => ({ value, verdict: 'bad' as Verdict })),
);
const limitParam = fc.oneof(
  fc.integer({ min: 1, max: 1000 }).map(String),
  fc.constantFrom('0', '-1', '1001', '1.5', '1e3', '0x10', ' 7 ', '', 'NaN', 'Infinity', '1e309', '99999999999999999999', '٣', '10abc'),
  anyString,
).map((value) => {
  const n = Number(value);
  return { value, verdict: (Number.isInteger(n) && n >= 1 && n <= 1000 ? 'good' : 'bad') as Verdict };
});
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** The hotline queue's cursor, as src/hotline/store.ts writes it: [rank, created_at, id]. */
const ticketCursor = (c: { rank: number; created_at: string; id: string }) => b64([c.rank, c.created_at, c.id]);
const weirdTimes = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('1', '0', '99999', '2026', '2026-02-30 00:00:00', '2026-11-20', '2026-11-20T01:30:00Z', 'Tue, 20 Nov 2026 01:30:00 GMT',
    '0000-01-01 00:00:00.000', '+002026-01-01 00:00:00.000', '-000001-12-31 16:00:00.000', '9999-12-31 23:59:59.999', '2026-11-20 01:30:00.000000001') },
  { weight: 1, arbitrary: fc.string({ unit: charsOf('0123456789-: .TZ+'), maxLength: 30 }) },
);
/** Cursors: ones this service issues (good), garbage (bad), and well-formed ones with odd times or shapes (good or bad, never 5xx). */
const cursorParam = (issue: (time: string, id: string) => string) => fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), identifier)
    .map(([ms, id]) => ({ value: issue(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''), id), verdict: KEY_GOOD as Verdict })) },
  anyString.map((value) => ({ value, verdict: 'bad' as Verdict })),
  { weight: 4, arbitrary: fc.tuple(weirdTimes, fc.oneof(identifier, anyString)).map(([time, id]) => ({ value: issue(time, id), verdict: 'either' as Verdict })) },
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ value: b64(v), verdict: 'either' as Verdict })),
  fc.integer({ min: 501, max: 3000 }).map((n) => ({ value: 'A'.repeat(n), verdict: 'bad' as Verdict })),
);

type ParamSpec = Record<string, fc.Arbitrary<{ value: string; verdict: Verdict }>>;
interface ListRoute { path: fc.Arbitrary<{ path: string; pathVerdict: Verdict }>; params: ParamSpec | null; name: string }
const at = (path: string) => fc.constant({ path, pathVerdict: KEY_GOOD as Verdict });
const LIST_ROUTES: ListRoute[] = [
  {
    name: '/v1/alerts', path: at('/v1/alerts'),
    params: {
      rule: lengthParam(1, 64), severity: enumParam(SEVERITIES), status: enumParam(ALERT_STATUSES), mode: enumParam(ALERT_MODES), region: regionParam,
      agency: identifierParam, enterprise: creditCodeParam, variant: lengthParam(0, 64), from: timeParam, to: timeParam, limit: limitParam,
      cursor: cursorParam((time, id) => alertCursor({ first_seen_at: time, id })),
    },
  },
  { name: '/v1/silences', path: at('/v1/silences'), params: { state: enumParam(['active', 'expired', 'all']) } },
  {
    name: '/v1/hotline/tickets', path: at('/v1/hotline/tickets'),
    params: {
      state: enumParam(TICKET_STATES), priority: enumParam(PRIORITIES), category: lengthParam(1, 64, true), region: regionParam,
      source: enumParam(TICKET_SOURCES), claimed_by: lengthParam(1, 64, true), assignee_kind: enumParam(ASSIGNEE_KINDS), limit: limitParam,
      cursor: fc.nat(255).chain((rank) => cursorParam((time, id) => ticketCursor({ rank, created_at: time, id }))),
    },
  },
  {
    name: '/v1/enterprises/{id}/timeline',
    path: fc.oneof({ weight: 3, arbitrary: creditCodeArb.map((value) => ({ value, verdict: KEY_GOOD as Verdict })) }, creditCodeParam)
      .filter(({ value }) => !['', '.', '..'].includes(value))
      .map(({ value, verdict }) => ({ path: `/v1/enterprises/${encodeURIComponent(value)}/timeline`, pathVerdict: verdict })),
    params: { from: timeParam, to: timeParam, limit: limitParam, cursor: cursorParam((time, id) => timelineCursor({ occurred_at: time, id })) },
  },
  { name: '/v1/rules', path: at('/v1/rules'), params: null },
];

const getJson = async (path: string) => (await send({ method: 'GET', path })).json;

describe(`properties of headers, framing and query strings (seed ${SEED})`, () => {
  it('4. random headers (content types, accept, encodings, long values) never cause a 5xx; content type decides 202/415', async () => {
    const routes = ['/v1/alerts?limit=2', '/v1/silences', '/v1/hotline/tickets?limit=2', `/v1/enterprises/${creditCode('371402', 1)}/timeline`, '/v1/rules', '/healthz'];
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.constantFrom(...routes), fc.constant('POST')),
      randomHeaders,
      contentTypeArb,
      checkinArb,
      async (route, extra, contentType, event) => {
        const headers = Object.fromEntries(extra);
        const posting = route === 'POST';
        if (posting) headers['content-type'] = contentType;
        const req: Req = posting
          ? { method: 'POST', path: '/v1/events', headers, body: JSON.stringify(uniqueIds([event])[0]) }
          : { method: 'GET', path: route, headers };
        let res: Res;
        try {
          res = await send(req);
        } catch (err) {
          // fetch itself refuses some header values (e.g. one it cannot encode): not the server's business.
          if (refusedByFetch(err)) return;
          throw err;
        }
        no5xx(req, res);
        const size = headerBytes(headers) + 200;
        if (res.status === 431) {
          check(size > HEADER_LIMIT - 1024, `431 for ${size} bytes of headers`, req, res);
          return;
        }
        if (!posting) {
          check(res.status === 200, `expected 200, got ${res.status}`, req, res);
          return;
        }
        const media = contentType.trim().split(';')[0]!.trim().toLowerCase();
        const expected = MEDIA.has(media) ? 202 : 415;
        check(res.status === expected, `content type ${JSON.stringify(contentType)}: expected ${expected}, got ${res.status}`, req, res);
        if (expected === 415) namesProblem(req, res);
      },
    ), runs(150));
  });

  it('4. raw HTTP framing: Content-Length too short, too long, invalid or doubled, bad chunking — never a 5xx', async () => {
    const { port } = new URL(service.url);
    /**
     * Sends raw bytes and returns every status line the server wrote before closing. A server still waiting for body
     * bytes after 300 ms gets a half-close (which Node's server takes as the client going away); 3 s at most.
     */
    const raw = (bytes: string) => new Promise<{ statuses: number[]; text: string }>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      const halfClose = setTimeout(() => socket.end(), 300);
      const done = () => {
        clearTimeout(halfClose);
        resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), text });
      };
      socket.setTimeout(3000, () => {
        socket.destroy();
        done();
      });
      socket.on('data', (d) => {
        text += d.toString('latin1');
        clearTimeout(halfClose);
      });
      socket.on('close', done);
      socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? done() : reject(err)));
      socket.write(Buffer.from(bytes, 'utf8'));
    });

    await fc.assert(fc.asyncProperty(
      checkinArb,
      fc.oneof(
        fc.integer({ min: -300, max: 300 }).map((delta) => ({ framing: 'length' as const, delta })),
        fc.constantFrom('abc', '-1', '1e3', ' ', '99999999999999999999', '0x10').map((value) => ({ framing: 'bad-length' as const, value })),
        fc.integer({ min: -5, max: 5 }).map((delta) => ({ framing: 'double-length' as const, delta })),
        fc.constantFrom('zz', '-1', 'ffffffffffffffff', '', '1;x', '0').map((size) => ({ framing: 'chunked' as const, size })),
        fc.constant({ framing: 'length-and-chunked' as const }),
      ),
      async (event, framing) => {
        const body = JSON.stringify(uniqueIds([event])[0]);
        const len = Buffer.byteLength(body);
        const head = `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nConnection: close\r\n`;
        const bytes = {
          length: () => `${head}Content-Length: ${Math.max(0, len + (framing as { delta: number }).delta)}\r\n\r\n${body}`,
          'bad-length': () => `${head}Content-Length: ${(framing as { value: string }).value}\r\n\r\n${body}`,
          'double-length': () => `${head}Content-Length: ${len}\r\nContent-Length: ${len + (framing as { delta: number }).delta}\r\n\r\n${body}`,
          chunked: () => `${head}Transfer-Encoding: chunked\r\n\r\n${(framing as { size: string }).size}\r\n${body}\r\n0\r\n\r\n`,
          'length-and-chunked': () => `${head}Content-Length: ${len}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
        }[framing.framing]();
        const { statuses, text } = await raw(bytes);
        const req: Req = { method: 'RAW', path: '/v1/events', body: bytes.replace(TOKEN, '$TOKEN') };
        check(statuses.every((s) => s < 500), `raw framing ${JSON.stringify(framing)} answered ${statuses.join(', ')}`, req, { status: statuses[0] ?? 0, text, json: null });
        if (framing.framing === 'length' && framing.delta === 0) check(statuses[0] === 202, 'a well-framed request was not accepted', req, { status: statuses[0] ?? 0, text, json: null });
        if (framing.framing === 'length' && framing.delta < 0 && len + framing.delta > 0) {
          check(statuses[0] === 400, 'a body cut short was not a 400', req, { status: statuses[0] ?? 0, text, json: null });
        }
      },
    ), runs(60));
  });

  it('4. query strings on every GET list route: random, repeated, huge, unicode keys and values — never a 5xx; a bad known parameter is a 400 naming it', async () => {
    const routeArb = fc.constantFrom(...LIST_ROUTES).chain((route) => {
      const known = route.params ? Object.entries(route.params) : [];
      const knownParam = known.length === 0 ? fc.constant(null)
        : fc.constantFrom(...known).chain(([key, arb]) => arb.map((v): Param => ({ key, ...v })));
      const unknownParam = fc.oneof(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        fc.constantFrom('__proto__', 'constructor', 'toString', 'LIMIT', 'limit ', 'cursor[]', 'from.x', 'a=b', '%', '𠀀'),
      ).filter((key) => !route.params || !Object.hasOwn(route.params, key)).chain((key) => anyString.map((value): Param => ({ key, value, verdict: route.params ? 'bad' : 'good' })));
      return fc.record({
        route: fc.constant(route),
        path: route.path,
        // Half the requests probe one known parameter alone, so an odd value that passes validation reaches storage.
        params: fc.oneof(
          knownParam.map((p) => [p]),
          fc.array(fc.oneof({ weight: 4, arbitrary: knownParam }, { weight: 1, arbitrary: unknownParam }), { maxLength: 6 }),
        ),
        repeat: fc.boolean(),
      });
    });
    await fc.assert(fc.asyncProperty(routeArb, async ({ route, path, params, repeat }) => {
      const list = params.filter((p): p is Param => p !== null && p.key.length > 0);
      if (repeat && list.length > 0) list.push({ ...list[0]!, value: `${list[0]!.value}x`, verdict: 'either' });
      const query = list.map((p) => `${encodeURIComponent(p.key)}=${encodeURIComponent(p.value)}`).join('&');
      const req: Req = { method: 'GET', path: `${path.path}${query ? `?${query}` : ''}` };
      const res = await send(req);
      no5xx(req, res);
      if (res.status === 414 || res.status === 431) {
        check(req.path.length > 8000, `${res.status} for a ${req.path.length}-character URL`, req, res);
        return;
      }
      // What the route sees: the first value of each key (Hono's c.req.query()).
      const seen = new Map<string, Param>();
      for (const p of list) if (!seen.has(p.key)) seen.set(p.key, p);
      const bad = [...seen.values()].filter((p) => p.verdict === 'bad').map((p) => p.key);
      if (path.pathVerdict === 'bad') bad.push('id');
      const uncertain = path.pathVerdict === 'either' || [...seen.values()].some((p) => p.verdict === 'either');
      if (res.status === 400) {
        namesProblem(req, res);
        const fields: string[] = res.json.errors.map((e: { field: string }) => e.field);
        for (const key of bad) check(fields.some((f) => f === key || f.split(', ').includes(key)), `400 does not name ${JSON.stringify(key)}`, req, res);
        const present = new Set([...seen.keys(), 'id']);
        for (const field of fields) {
          const known = present.has(field) || field.split(', ').every((f) => present.has(f)) || [...present].some((k) => k.includes(', ') && field.includes(k));
          check(known, `400 names ${JSON.stringify(field)}, which is not in the request`, req, res);
        }
        check(bad.length > 0 || uncertain, `${route.name}: a request with only good parameters got 400`, req, res);
      } else {
        check(res.status === 200, `${route.name}: expected 200 or 400, got ${res.status}`, req, res);
        check(bad.length === 0, `${route.name}: bad parameter(s) ${bad.join(', ')} were accepted`, req, res);
        check(res.json && typeof res.json === 'object', 'a 200 without a JSON body', req, res);
      }
    }), runs(500));
    // The routes still answer normally after all that.
    expect((await getJson('/v1/rules')).rules.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. random paths and methods
// ---------------------------------------------------------------------------------------------

/** Every route the service serves (with any method): a path outside these must be a 404 (or 405/401). */
const ROUTES = [
  /^\/$/, /^\/index\.html$/, /^\/console\/.*/, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/openapi\.json$/, /^\/v1\/events$/,
  /^\/v1\/enterprises(\/[^/]+(\/timeline)?)?$/, /^\/v1\/agencies(\/[^/]+)?$/, /^\/v1\/alerts(\/[^/]+(\/(ack|resolve|reopen))?)?$/,
  /^\/v1\/silences(\/[^/]+(\/expire)?)?$/, /^\/v1\/hotline\/tickets(\/[^/]+(\/(claim|release|assign|categorise|notes|resolve|reopen))?)?$/,
  /^\/v1\/rules(\/[^/]+)?$/,
];
const SEGMENTS = ['v1', 'alerts', 'events', 'rules', 'silences', 'hotline', 'tickets', 'enterprises', 'agencies', 'timeline', 'stream', 'claim',
  'ack', 'expire', 'no-plan', '..', '.', '', '%2e%2e', '%2E', '%00', '%2F', '%zz', '%', '%E0%A4%A', 'ä', '%F0%9F%98%80', '__proto__', 'constructor',
  'index.html', 'console', 'openapi.json', 'metrics', 'healthz', 'readyz', '*', ';', 'a;b=c', '~', '@', 'x'.repeat(3000)];
const pathArb = fc.array(fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: printableAscii, maxLength: 12 }).map((s) => s.replace(/[#?]/g, '')) },
), { minLength: 0, maxLength: 7 }).chain((segments) => fc.constantFrom('', '/', '?x=1', '?limit=1&limit=2', '#frag').map((tail) => `/${segments.join('/')}${tail}`));
const methodArb = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO', 'purge', 'M-SEARCH', 'get', 'Post');

function decodedPath(pathname: string): string {
  return pathname.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  }).join('/');
}

describe(`properties of paths and methods (seed ${SEED})`, () => {
  it('5. random paths and methods: 404/405/401 where no route is, never a 5xx anywhere', async () => {
    await fc.assert(fc.asyncProperty(methodArb, pathArb, fc.option(fc.string({ maxLength: 50 }), { nil: undefined }), async (method, rawPath, body) => {
      const url = new URL(`http://127.0.0.1${rawPath}`);
      const path = `${url.pathname}${url.search}`;
      const hasBody = body !== undefined && !['GET', 'HEAD', 'get'].includes(method);
      const req: Req = { method, path, ...(hasBody ? { body, headers: { 'content-type': 'application/json' } } : {}) };
      let res: Res;
      try {
        res = await send(req);
      } catch (err) {
        if (refusedByFetch(err)) return; // fetch refuses the method itself
        throw err;
      }
      no5xx(req, res);
      if (res.status === 414 || res.status === 431) {
        check(path.length > 8000, `${res.status} for a ${path.length}-character path`, req, res);
        return;
      }
      const candidates = [url.pathname, decodedPath(url.pathname), url.pathname.replace(/\/+$/, ''), decodedPath(url.pathname).replace(/\/+$/, '')];
      const routed = candidates.some((p) => ROUTES.some((r) => r.test(p)));
      // Node's HTTP parser answers a method it does not know with a bare 400 before any route runs.
      const sent = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(method.toUpperCase()) ? method.toUpperCase() : method; // fetch's normalisation
      const unknownMethod = !METHODS.includes(sent) && res.status === 400 && res.text === '';
      if (!routed && !unknownMethod) check([404, 405, 401].includes(res.status), `no route, yet ${res.status}`, req, res);
    }), runs(300));
  });
});

describe('afterwards', () => {
  it('no request of this file was answered with a 5xx, not even one whose client had gone (metrics)', async () => {
    const res = await send({ method: 'GET', path: '/metrics' });
    expect(res.status).toBe(200);
    const errors = res.text.split('\n').filter((l) => l.startsWith('qingjian_http_requests_total{') && /status="5\d\d"/.test(l));
    expect(errors).toEqual([]);
  });
});
