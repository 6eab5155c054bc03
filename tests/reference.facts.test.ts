import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceFacts, type ReferenceFacts } from '../src/reference/index.js';
import type { Storage } from '../src/storage/index.js';
import { creditCode } from './support/fixtures.js';
import { callAs, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * The engine's memory of reference data (src/reference/facts.ts): read from the real embedded engine once, kept
 * until a reference upsert through the API bumps the generation in the real Redis, then read again. The queries it
 * sends are counted on the way to the engine.
 */
let service: TestService;
let redis: Redis;
let facts: ReferenceFacts;
const queries: string[] = [];

const AGENCY = '371400-SCJG';
const company = (serial: number, grade: string) => ({ enterprise_id: creditCode('371402', serial), name: `德州示例${serial}有限公司`, region: '371402', credit_grade: grade });
const put = async (path: string, body: unknown) => expect((await callAs(service.url, 'PUT', path, TEST_TOKEN, body)).status).toBe(200);

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  redis = new Redis(service.redisUrl);
  const counting: Storage = { ...service.storage, query: (sql, params) => (queries.push(sql), service.storage.query(sql, params)) };
  facts = createReferenceFacts(redis, counting, service.config.REDIS_PREFIX);
  await put('/v1/agencies', [{ agency_id: AGENCY, name: '德州市市场监督管理局', region: '371400', kind: 'market_regulation' }]);
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await service?.dispose();
});

describe('reference facts remembered by the evaluating process', () => {
  it('reads a company once, until an upsert changes reference data; then it reads the new facts', async () => {
    const a = company(71_001, 'B');
    await put('/v1/enterprises', [a]);
    queries.length = 0;
    expect((await facts.companies([a.enterprise_id])).get(a.enterprise_id)).toMatchObject({ credit_grade: 'B', region: '371402' });
    expect((await facts.companies([a.enterprise_id, a.enterprise_id])).get(a.enterprise_id)).toMatchObject({ credit_grade: 'B' });
    expect(queries).toHaveLength(1);

    await put('/v1/enterprises', [{ ...a, credit_grade: 'D' }]);
    expect((await facts.companies([a.enterprise_id])).get(a.enterprise_id)).toMatchObject({ credit_grade: 'D' });
    expect(queries).toHaveLength(2);
  });

  it('remembers a company without a record as such, and finds it once reference data names it', async () => {
    const unknown = company(71_002, 'C');
    queries.length = 0;
    expect((await facts.companies([unknown.enterprise_id])).has(unknown.enterprise_id)).toBe(false);
    expect((await facts.companies([unknown.enterprise_id])).has(unknown.enterprise_id)).toBe(false);
    expect(queries).toHaveLength(1);
    await put('/v1/enterprises', [unknown]);
    expect((await facts.companies([unknown.enterprise_id])).get(unknown.enterprise_id)).toMatchObject({ credit_grade: 'C' });
  });

  it('reads only the ids it does not know, and agency names the same way', async () => {
    const [a, b] = [company(71_003, 'A'), company(71_004, 'B')];
    await put('/v1/enterprises', [a, b]);
    await facts.companies([a.enterprise_id]);
    queries.length = 0;
    const both = await facts.companies([a.enterprise_id, b.enterprise_id]);
    expect([...both.keys()].sort()).toEqual([a.enterprise_id, b.enterprise_id].sort());
    expect(queries).toHaveLength(1);

    expect(await facts.agencyNames([AGENCY, 'no-such-agency'])).toEqual(new Map([[AGENCY, '德州市市场监督管理局']]));
    expect(await facts.agencyNames([AGENCY, 'no-such-agency'])).toEqual(new Map([[AGENCY, '德州市市场监督管理局']]));
    expect(queries).toHaveLength(2);
    await put('/v1/agencies', [{ agency_id: AGENCY, name: '德州市市场监管局', region: '371400', kind: 'market_regulation' }]);
    expect(await facts.agencyNames([AGENCY])).toEqual(new Map([[AGENCY, '德州市市场监管局']]));
  });

  it("remembers an agency's region with its name, for plan checks, in the same memory", async () => {
    queries.length = 0;
    expect(await facts.agencies([AGENCY, 'no-such-agency'])).toEqual(new Map([[AGENCY, { name: '德州市市场监管局', region: '371400' }]]));
    expect(await facts.agencyNames([AGENCY, 'no-such-agency'])).toEqual(new Map([[AGENCY, '德州市市场监管局']]));
    expect(queries).toHaveLength(1);
    await put('/v1/agencies', [{ agency_id: AGENCY, name: '德州市市场监管局', region: '371402', kind: 'market_regulation' }]);
    expect((await facts.agencies([AGENCY])).get(AGENCY)).toEqual({ name: '德州市市场监管局', region: '371402' });
    expect(queries).toHaveLength(2);
  });
});
