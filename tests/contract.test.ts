import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompanies, readEvents } from '../src/rules/context.js';
import { toClickHouseTime } from '../src/storage/index.js';
import { checkin, complaint, creditCode, filing, inspection, plan } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/*
 * The event contract of issue 24 (policy fidelity) through HTTP, the store worker and the real ClickHouse
 * engine: purpose, national_basis, urgent_reason on records, plan identity and review, the green channel,
 * filings (备案/报备), and the white list that replaced `exempt`. Each field is read back from the table the
 * rules read, and through the engine's own reader (src/rules/context.ts).
 */

let service: TestService;
const events = () => `${service.url}/v1/events`;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.dispose());

const NEW_COLUMNS = 'purpose, national_basis, reviewed_by, filing_kind, filed_with, approved_by';

interface Stored {
  id: string; type: string; enterprise_id: string; agency_id: string; purpose: string; national_basis: string;
  reviewed_by: string; filing_kind: string; filed_with: string; approved_by: string; plan_id: string;
  urgent_reason: string; window_start: string | null; window_end: string | null;
}

/** The rows of one event id, once the store worker has written `rows` of them. */
const storedRows = (id: string, rows = 1) => eventually(async () => {
  const found = await service.storage.query<Stored>(
    `SELECT id, type, enterprise_id, agency_id, ${NEW_COLUMNS}, plan_id, urgent_reason, window_start, window_end
     FROM events FINAL WHERE id = {id:String} ORDER BY enterprise_id`, { id });
  return found.length === rows ? found : undefined;
}, 20_000, `${id} stored`);

const accepted = async (...batch: object[]) => {
  const res = await post(events(), batch);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

/** The errors a single bad event (after a good one) gets: all of them blame index 1. */
async function refused(event: object): Promise<Array<{ field: string; message: string }>> {
  const res = await post(events(), [checkin(), event]);
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('validation_failed');
  expect(res.body.errors.every((e: { index: number }) => e.index === 1)).toBe(true);
  return res.body.errors;
}

const YUNHE = creditCode('331125', 20);
const YUNHE_2 = creditCode('331125', 21);
const span = (from: string, to: string) => new Map([[null, { from: Date.parse(from), to: Date.parse(to) }]]);

describe('check-ins and inspection records', () => {
  it('store purpose, urgent_reason (the new codes too) and national_basis', async () => {
    const research = checkin({ enterprise_id: YUNHE, purpose: 'research', urgent_reason: 'life_property', national_basis: '《安全生产法》第六十五条' });
    const record = inspection({ enterprise_id: YUNHE, purpose: 'guidance', urgent_reason: 'social_impact', national_basis: '《食品安全法》' });
    const leader = checkin({ enterprise_id: YUNHE, purpose: 'leader_visit', urgent_reason: 'public_interest' });
    await accepted(research, record, leader);
    expect((await storedRows(research.id))[0]).toMatchObject({ purpose: 'research', urgent_reason: 'life_property', national_basis: '《安全生产法》第六十五条' });
    expect((await storedRows(record.id))[0]).toMatchObject({ purpose: 'guidance', urgent_reason: 'social_impact', national_basis: '《食品安全法》' });
    expect((await storedRows(leader.id))[0]).toMatchObject({ purpose: 'leader_visit', urgent_reason: 'public_interest', national_basis: '' });
  });

  it('default purpose to inspection, stored and shown in the timeline as accepted', async () => {
    const scan = checkin({ enterprise_id: YUNHE_2 });
    const record = inspection({ enterprise_id: YUNHE_2 });
    await accepted(scan, record);
    for (const e of [scan, record]) expect((await storedRows(e.id))[0]).toMatchObject({ purpose: 'inspection', national_basis: '', urgent_reason: '' });
    const timeline = await get(`${service.url}/v1/enterprises/${YUNHE_2}/timeline?from=2026-11-01&to=2026-12-01`);
    expect(timeline.body.items.map((e: { purpose?: string }) => e.purpose)).toEqual(['inspection', 'inspection']);
  });

  it('refuse a bad purpose, urgent_reason or national_basis, naming the field', async () => {
    expect(await refused(checkin({ purpose: 'visit' }))).toContainEqual({ index: 1, field: 'purpose', message: expect.stringMatching(/inspection.*research.*guidance.*leader_visit/) });
    expect(await refused(inspection({ urgent_reason: 'hurry' }))).toContainEqual({ index: 1, field: 'urgent_reason', message: expect.stringMatching(/social_impact/) });
    expect(await refused(inspection({ national_basis: '法'.repeat(201) }))).toContainEqual({ index: 1, field: 'national_basis', message: expect.stringMatching(/200/) });
  });
});

describe('plans', () => {
  it('store plan_id, reviewed_by and a green-channel urgent_reason on every company row', async () => {
    const reviewed = plan({ plan_id: 'LZ-2026-118', enterprise_ids: [YUNHE, YUNHE_2], reviewed_by: 'justice_bureau', urgent_reason: 'emergency' });
    await accepted(reviewed);
    const rows = await storedRows(reviewed.id, 2);
    for (const row of rows) expect(row).toMatchObject({ plan_id: 'LZ-2026-118', reviewed_by: 'justice_bureau', urgent_reason: 'emergency' });
  });

  it('default plan_id to the event id; a later version with the same plan_id is stored beside it', async () => {
    const first = plan({ enterprise_ids: [YUNHE] });
    await accepted(first);
    expect((await storedRows(first.id))[0]).toMatchObject({ plan_id: first.id, reviewed_by: '', urgent_reason: '' });
    const cancelled = plan({ plan_id: first.id, enterprise_ids: [YUNHE], status: 'cancelled', occurred_at: '2026-11-12T10:00:00+08:00' });
    await accepted(cancelled);
    expect((await storedRows(cancelled.id))[0]).toMatchObject({ plan_id: first.id });
  });

  it('refuse a bad plan_id or reviewer, naming the field', async () => {
    expect(await refused(plan({ plan_id: 'a b' }))).toContainEqual({ index: 1, field: 'plan_id', message: expect.stringMatching(/only letters A-Z a-z, digits and \. _ : -/) });
    expect(await refused(plan({ reviewed_by: 'mayor' }))).toContainEqual({ index: 1, field: 'reviewed_by', message: expect.stringMatching(/justice_bureau/) });
  });
});

describe('filings (备案/报备)', () => {
  it('store kind, office, approving head and plan as a one-day window on the visit date', async () => {
    const quiet = filing({ enterprise_id: YUNHE, visit_date: '2026-11-24', plan_id: 'YH-2026-7', note: '消防安全隐患复查' });
    await accepted(quiet);
    expect((await storedRows(quiet.id))[0]).toEqual({
      id: quiet.id, type: 'filing', enterprise_id: YUNHE, agency_id: '331125-SCJG', purpose: '', national_basis: '', reviewed_by: '',
      filing_kind: 'quiet_period_check', filed_with: 'county_enforcement_office', approved_by: '331125-SCJG-head',
      plan_id: 'YH-2026-7', urgent_reason: '', window_start: '2026-11-24', window_end: '2026-11-24',
    });
  });

  it('take research and leaders’ visits without an approving head', async () => {
    const research = filing({ enterprise_id: YUNHE, kind: 'research', filed_with: 'county_party_government_offices', approved_by: undefined, visit_date: '2026-11-27' });
    const leader = filing({ enterprise_id: YUNHE, kind: 'leader_visit', filed_with: 'county_party_government_offices', approved_by: undefined });
    await accepted(research, leader);
    expect((await storedRows(research.id))[0]).toMatchObject({ filing_kind: 'research', filed_with: 'county_party_government_offices', approved_by: '', plan_id: '' });
    expect((await storedRows(leader.id))[0]).toMatchObject({ filing_kind: 'leader_visit', approved_by: '' });
  });

  it('refuse a quiet-period check without the head’s approval, naming approved_by', async () => {
    const errors = await refused(filing({ approved_by: undefined }));
    expect(errors).toEqual([{ index: 1, field: 'approved_by', message: expect.stringMatching(/required when kind is quiet_period_check/) }]);
  });

  it('refuse bad fields, naming each', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ kind: 'inspection' }, 'kind', /quiet_period_check/],
      [{ filed_with: 'mayor' }, 'filed_with', /county_enforcement_office/],
      [{ visit_date: '2026-11-31' }, 'visit_date', /date/],
      [{ visit_date: undefined }, 'visit_date', /required/],
      [{ enterprise_id: undefined }, 'enterprise_id', /required/],
      [{ agency_id: undefined }, 'agency_id', /required/],
      [{ approved_by: '' }, 'approved_by', /empty/],
      [{ note: '注'.repeat(501) }, 'note', /500/],
      [{ enterprise_ids: [YUNHE] }, 'enterprise_ids', /not a known field/],
    ];
    for (const [overrides, field, message] of cases) {
      expect(await refused(filing(overrides)), field).toContainEqual({ index: 1, field, message: expect.stringMatching(message) });
    }
  });
});

describe('what the engine reads back', () => {
  it('maps every new column, with the contract’s defaults for rows stored before them', async () => {
    const company = creditCode('331125', 30);
    const scan = checkin({ enterprise_id: company, occurred_at: '2026-11-24T09:00:00+08:00', national_basis: '《特种设备安全法》' });
    const quiet = filing({ enterprise_id: company, occurred_at: '2026-11-24T17:00:00+08:00', visit_date: '2026-11-24' });
    const reviewed = plan({ enterprise_ids: [company], occurred_at: '2026-11-10T10:00:00+08:00', reviewed_by: 'justice_bureau' });
    await accepted(scan, quiet, reviewed);
    for (const e of [scan, quiet, reviewed]) await storedRows(e.id);
    // Rows as the previous version wrote them: none of the new columns, so they read ''.
    const old = (id: string, type: string, at: string) => ({
      id, type, enterprise_id: company, occurred_at: toClickHouseTime(new Date(at)), received_at: toClickHouseTime(new Date(at)),
      region: '331125', source: 'old-version', agency_id: '331125-SCJG', payload: '{}',
    });
    await service.storage.insert('events', [
      old(`old-checkin-${company}`, 'checkin', '2026-11-05T09:00:00+08:00'),
      old(`old-plan-${company}`, 'plan', '2026-11-04T09:00:00+08:00'),
      old(`old-complaint-${company}`, 'complaint', '2026-11-06T09:00:00+08:00'),
    ]);

    const read = (await readEvents(service.storage, [company], span('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'))).get(company)!;
    const byId = new Map(read.map((e) => [e.id, e]));
    expect(byId.get(scan.id)).toMatchObject({ type: 'checkin', purpose: 'inspection', national_basis: '《特种设备安全法》', filing_kind: '' });
    expect(byId.get(quiet.id)).toMatchObject({
      type: 'filing', purpose: '', filing_kind: 'quiet_period_check', filed_with: 'county_enforcement_office', approved_by: '331125-SCJG-head',
      window_start: '2026-11-24', window_end: '2026-11-24', plan_id: '',
    });
    expect(byId.get(reviewed.id)).toMatchObject({ type: 'plan', purpose: '', reviewed_by: 'justice_bureau', plan_id: reviewed.id });
    expect(byId.get(`old-checkin-${company}`)).toMatchObject({ purpose: 'inspection', plan_id: '' });
    expect(byId.get(`old-plan-${company}`)).toMatchObject({ purpose: '', plan_id: `old-plan-${company}` });
    expect(byId.get(`old-complaint-${company}`)).toMatchObject({ purpose: '', plan_id: '' });
  });

  it('complaints are unchanged by the new columns', async () => {
    const about = complaint({ enterprise_id: YUNHE });
    await accepted(about);
    expect((await storedRows(about.id))[0]).toMatchObject({ purpose: '', plan_id: '', filing_kind: '' });
  });
});

describe('companies: the white list replaces exempt', () => {
  const id = creditCode('370683', 40);
  const company = { enterprise_id: id, name: '莱州市海岳石材有限公司', region: '370683', credit_grade: 'B' };

  it('stores whitelisted (default false), reads it back and gives it to the engine', async () => {
    const other = creditCode('370683', 41);
    expect((await put(`${service.url}/v1/enterprises`, [{ ...company, whitelisted: true }, { ...company, enterprise_id: other, name: '莱州市东海粮油有限公司' }])).status).toBe(200);
    expect((await get(`${service.url}/v1/enterprises/${id}`)).body).toMatchObject({ ...company, whitelisted: true });
    expect((await get(`${service.url}/v1/enterprises/${other}`)).body).toMatchObject({ whitelisted: false });
    expect((await get(`${service.url}/v1/enterprises/${id}`)).body).not.toHaveProperty('exempt');
    const facts = await readCompanies(service.storage, [id, other]);
    expect(facts.get(id)).toMatchObject({ whitelisted: true, credit_grade: 'B' });
    expect(facts.get(other)).toMatchObject({ whitelisted: false });
  });

  it('refuses exempt like any unknown field, naming it, and a whitelisted that is not a boolean', async () => {
    const cases: Array<[object, string, RegExp]> = [
      [{ ...company, exempt: true }, 'exempt', /^is not a known field$/],
      [{ ...company, whitelisted: 'yes' }, 'whitelisted', /boolean/],
    ];
    for (const [body, field, message] of cases) {
      const res = await put(`${service.url}/v1/enterprises`, [body]);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ index: 0, field, message: expect.stringMatching(message) }]);
    }
  });
});

describe('OpenAPI', () => {
  it('is an OpenAPI 3.1 document of every served route, each with its access rule, every reference resolving', async () => {
    const doc = (await get(`${service.url}/openapi.json`)).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const tags = new Set(doc.tags.map((t: { name: string }) => t.name));
    // The console's files are not the API; HEAD is answered by GET.
    const served = [...service.routes.keys()].filter((r) => !r.startsWith('HEAD ') && !/ \/($|index\.html|console\/)/.test(r));
    expect(served.length).toBeGreaterThan(30);
    for (const route of served) {
      const [method, path] = route.split(' ') as [string, string];
      const operation = doc.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      expect(operation, route).toBeDefined();
      expect(operation['x-access'], route).toEqual(service.routes.get(route));
      expect(operation.security, route).toEqual(operation['x-access'] === 'public' ? [] : [{ bearer: [] }]);
      expect(Object.keys(operation.responses).length, route).toBeGreaterThan(0);
      expect(operation.tags?.length, `${route} has a tag`).toBeGreaterThan(0);
      for (const tag of operation.tags) expect(tags, `${route} tag ${tag}`).toContain(tag);
      const pathParams = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const declared = (operation.parameters ?? []).filter((p: { in: string }) => p.in === 'path');
      expect(declared.map((p: { name: string }) => p.name), route).toEqual(pathParams);
      for (const p of declared) expect(p.required, `${route} ${p.name}`).toBe(true);
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) {
      expect(ref, ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas, ref).toHaveProperty([ref.split('/').at(-1)!]);
    }
  });

  it('documents the filing type and the new fields', async () => {
    const doc = (await get(`${service.url}/openapi.json`)).body;
    const byType = new Map<string, { properties: Record<string, { enum?: string[]; default?: unknown }>; required: string[] }>(
      doc.components.schemas.Event.oneOf.map((s: { properties: { type: { const: string } } }) => [s.properties.type.const, s]));
    const filingSchema = byType.get('filing')!;
    expect(filingSchema.required).toEqual(expect.arrayContaining(['agency_id', 'enterprise_id', 'kind', 'filed_with', 'visit_date']));
    expect(filingSchema.properties.kind!.enum).toEqual(['quiet_period_check', 'research', 'leader_visit']);
    expect(Object.keys(filingSchema.properties)).toEqual(expect.arrayContaining(['approved_by', 'plan_id', 'note']));
    for (const type of ['checkin', 'inspection']) {
      const { properties } = byType.get(type)!;
      expect(properties.purpose).toMatchObject({ enum: ['inspection', 'research', 'guidance', 'leader_visit'], default: 'inspection' });
      expect(properties.urgent_reason!.enum).toEqual(expect.arrayContaining(['life_property', 'public_interest', 'social_impact']));
      expect(properties).toHaveProperty('national_basis');
    }
    expect(Object.keys(byType.get('plan')!.properties)).toEqual(expect.arrayContaining(['plan_id', 'reviewed_by', 'urgent_reason']));
    const enterprise = doc.components.schemas.Enterprise.properties;
    expect(enterprise).toHaveProperty('whitelisted');
    expect(enterprise).not.toHaveProperty('exempt');
  });
});
