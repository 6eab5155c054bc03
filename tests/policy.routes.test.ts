import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startTestService, type TestService } from './support/service.js';

/** GET /v1/rules says where each rule holds, with the clause that puts it there and the parameters in force. */
let service: TestService;

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
});

afterAll(() => service?.dispose());

type InForce = { prefix: string; name: string; inherited_from: string | null; source: { document: string; clause: string }; reading: { zh: string; en: string } | null; local_choice: { zh: string; en: string } | null; params: Record<string, unknown> };

async function inForce(id: string): Promise<InForce[]> {
  const list = await get(`${service.url}/v1/rules`);
  expect(list.status).toBe(200);
  const rule = (list.body.rules as Array<{ id: string; in_force: InForce[] }>).find((r) => r.id === id)!;
  const one = await get(`${service.url}/v1/rules/${id}`);
  expect(one.body.in_force).toEqual(rule.in_force);
  return rule.in_force;
}

describe('where each rule holds', () => {
  it('lists the map and, per rule, its regions with their clause, reading and parameters', async () => {
    const list = await get(`${service.url}/v1/rules`);
    expect((list.body.regions as Array<{ prefix: string }>).map((r) => r.prefix)).toEqual(['3714', '3706', '3503', '330203', '3311', '331125']);

    const noPlan = await inForce('no-plan');
    expect(noPlan.map((r) => [r.prefix, r.params.lead_days, r.params.green_channel])).toEqual([
      ['3706', 7, true], ['3503', 7, false], ['330203', 0, false], ['331125', 0, false],
    ]);
    expect(noPlan.find((r) => r.prefix === '3503')).toMatchObject({
      name: '莆田市', inherited_from: null, source: { document: 'putian-2025-one-center-two-ends.txt', clause: expect.stringContaining('于入企检查一周前发布') },
    });

    const frequent = await inForce('frequent-visits');
    expect(frequent).toEqual([expect.objectContaining({ prefix: '3714', reading: { zh: expect.stringContaining('禹城'), en: expect.stringContaining('禹城') }, params: expect.objectContaining({ at_least: 4, agency_at_least: 3 }) })]);
  });

  it('a county that inherits a rule from its city cites the city entry\'s clause', async () => {
    const quiet = await inForce('quiet-period');
    expect(quiet.map((r) => [r.prefix, r.inherited_from])).toEqual([['3311', null], ['331125', '3311']]);
    const [city, county] = quiet;
    expect(county!.source).toEqual(city!.source);
    expect(county!.reading).toEqual(city!.reading);
    expect(county!.name).toBe('丽水市云和县');
  });

  it('complaint-received, placed by complaints_to, cites its own clause', async () => {
    const complaints = await inForce('complaint-received');
    expect(complaints.map((r) => r.prefix)).toEqual(['3714', '3706']);
    for (const r of complaints) expect(r.source.clause).toContain('监督举报电话');
  });
});
