import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion, principalOf, refuseOutside, within } from '../auth/index.js';
import { firstValues } from '../http/query.js';
import { components, defineRoute, failure, json, ref, requestErrors, routeGroup } from '../http/route.js';
import { Agency, batchBody, batchErrors, batchItem, Enterprise, readValidBatch } from '../ingest/index.js';
import type { Change } from '../queues/index.js';
import type { HomeKind, Homes } from './homes.js';
import { judgeUpsert, type UpsertSubject } from './judge.js';
import { statusChanges } from './status.js';
import type { ReferenceStore } from './store.js';

const upsertRoute = (path: string, item: string, summary: string) => defineRoute({
  method: 'put', path, access: ['reference:write'], tags: ['ingest'], summary,
  request: { body: batchBody(item) },
  responses: { 200: json('Stored', ref('Upserted')), ...batchErrors },
});

const lookupRoute = (path: string, item: string, summary: string, unknown: string) => defineRoute({
  method: 'get', path, access: ['reference:read'], tags: ['ingest'], summary,
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: json('Found', ref(item)), 404: failure(unknown) },
});

const SUBJECTS: Record<HomeKind, UpsertSubject> = {
  enterprise: { noun: 'enterprise', idField: 'enterprise_id', regionField: 'region' },
  agency: { noun: 'agency', idField: 'agency_id', regionField: 'region' },
};

const SearchParams = z.object({
  q: z.string().trim().max(64).optional().describe('Part of the name, or the start of the id (credit code, agency id)'),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
}).strict();

const searchRoute = (path: string, summary: string) => defineRoute({
  method: 'get', path, access: ['reference:read'], tags: ['ingest'], summary,
  request: { query: firstValues(SearchParams) },
  responses: { 200: json('Matches, by name', ref('NameMatches')), 400: failure('Bad parameters (named in errors)') },
});

/**
 * Bulk upserts and lookups of companies and agencies; same validation rules as events. A company whose status
 * changed (deregistered, or corrected) is handed to `reevaluate`: its alerts since the status date are decided again.
 */
export function referenceRoutes(store: ReferenceStore, homes: Homes, maxItems: number, reevaluate: (changes: Change[]) => Promise<void>): OpenAPIHono {
  const app = routeGroup();
  components(app, {
    Enterprise: batchItem(Enterprise),
    Agency: batchItem(Agency),
    NameMatches: {
      type: 'object', required: ['items'],
      properties: { items: { type: 'array', items: { type: 'object', required: ['id', 'name', 'region'], properties: { id: { type: 'string' }, name: { type: 'string' }, region: { type: 'string' } } } } },
    },
    Upserted: { type: 'object', required: ['upserted'], properties: { upserted: { type: 'integer' } } },
  });

  // Judged by the stored record and the new one (./judge.ts).
  async function upsert<T extends { region: string }>(
    c: Context, kind: HomeKind, schema: z.ZodType<T>, idOf: (item: T) => string, write: (items: T[]) => Promise<void>,
  ) {
    const batch = await readValidBatch(c, schema, maxItems);
    if ('response' in batch) return batch.response;
    const items = batch.values.map((item) => ({ id: idOf(item), region: item.region }));
    const before = await store.storedRegions(kind, items.map((i) => i.id));
    const refused = items.flatMap((item, index) => judgeUpsert(principalOf(c), SUBJECTS[kind], item, before.get(item.id), index));
    if (refused.length > 0) return refuseOutside(c, refused);
    await write(batch.values);
    await homes.moved(kind, new Map(items.map((i) => [i.id, i.region])));
    return c.json({ upserted: batch.values.length });
  }

  app.openapi(upsertRoute('/v1/enterprises', 'Enterprise', 'Upsert companies (reference data)'),
    (c) => upsert(c, 'enterprise', Enterprise, (e) => e.enterprise_id, async (items) => {
      const before = await store.storedStatuses(items.map((e) => e.enterprise_id));
      await store.upsertEnterprises(items);
      const changes = statusChanges(before, items, Date.now());
      if (changes.length > 0) await reevaluate(changes);
    }));
  app.openapi(upsertRoute('/v1/agencies', 'Agency', 'Upsert agencies (reference data)'),
    (c) => upsert(c, 'agency', Agency, (a) => a.agency_id, (items) => store.upsertAgencies(items)));

  // Searches answer inside the caller's jurisdiction only; a region outside it finds nothing.
  async function search(c: Context, kind: HomeKind, { q, region, limit }: z.infer<typeof SearchParams>) {
    const narrowed = narrowRegion(region, jurisdictionOf(c));
    if (narrowed === null) return c.json({ items: [] });
    return c.json({ items: await store.search(kind, { text: q ?? '', region: narrowed ?? '', limit }) });
  }
  app.openapi(searchRoute('/v1/enterprises', 'Companies by name or credit code (search)'),
    (c) => search(c, 'enterprise', c.req.valid('query')), requestErrors('bad search request'));
  app.openapi(searchRoute('/v1/agencies', 'Agencies by name or id (search, the 转办 picker)'),
    (c) => search(c, 'agency', c.req.valid('query')), requestErrors('bad search request'));

  app.openapi(lookupRoute('/v1/enterprises/{id}', 'Enterprise', 'One company', 'Unknown company'), async (c) => {
    const enterprise = await store.enterprise(c.req.valid('param').id);
    return enterprise && within(enterprise.region, jurisdictionOf(c)) ? c.json(enterprise) : c.json({ error: 'not_found', message: 'no such enterprise' }, 404);
  });

  app.openapi(lookupRoute('/v1/agencies/{id}', 'Agency', 'One agency', 'Unknown agency'), async (c) => {
    const agency = await store.agency(c.req.valid('param').id);
    return agency && within(agency.region, jurisdictionOf(c)) ? c.json(agency) : c.json({ error: 'not_found', message: 'no such agency' }, 404);
  });

  return app;
}
