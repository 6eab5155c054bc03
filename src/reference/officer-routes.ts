import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { jurisdictionOf, narrowRegion, principalOf, refuseOutside } from '../auth/index.js';
import { listed } from '../http/json.js';
import { firstValues } from '../http/query.js';
import { components, defineRoute, failure, json, ref, requestErrors, routeGroup } from '../http/route.js';
import { AgencyId, batchBody, batchErrors, batchItem, Officer, readValidBatch } from '../ingest/index.js';
import { judgeUpsert, type UpsertSubject } from './judge.js';
import type { OfficerStore } from './officer-store.js';
import type { ReferenceStore } from './store.js';

// An officer is placed by the agency they serve: agency_id is the field that names the region.
const OFFICER: UpsertSubject = { noun: 'officer', idField: 'officer_id', regionField: 'agency_id' };

const putOfficers = defineRoute({
  method: 'put', path: '/v1/officers', access: ['reference:write'], tags: ['ingest'],
  summary: 'Upsert officers (reference data: the name behind an id in officer_ids)',
  request: { body: batchBody('Officer') },
  responses: { 200: json('Stored', ref('Upserted')), ...batchErrors },
});

const OfficerSearchParams = z.object({
  q: z.string().trim().max(64).optional().describe('Part of the name or of the id'),
  agency: AgencyId.optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional()
    .describe("A division-code prefix of the officers' agencies"),
  limit: z.coerce.number().int().min(1).max(200).default(20),
}).strict();

const searchOfficers = defineRoute({
  method: 'get', path: '/v1/officers', access: ['reference:read'], tags: ['ingest'],
  summary: 'Officers by name or id (search; the exact id first, then by name)',
  request: { query: firstValues(OfficerSearchParams) },
  responses: { 200: json('Matches', ref('OfficerMatches')), 400: failure('Bad parameters (named in errors)') },
});

/**
 * PUT /v1/officers and the officer search. An officer has no region of their own: the agency they serve must be
 * on reference data, and its region is judged as a company's or an agency's region is (./judge.ts): the agency
 * named now and the one the stored record names must lie in the caller's jurisdiction, and a move to an agency
 * of another region is an admin's act.
 */
export function officerRoutes(store: OfficerStore, reference: Pick<ReferenceStore, 'storedRegions'>, maxItems: number): OpenAPIHono {
  const app = routeGroup();
  components(app, {
    Officer: batchItem(Officer),
    OfficerMatches: {
      type: 'object', required: ['items'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object', required: ['id', 'name', 'agency_id', 'region'],
            properties: {
              id: { type: 'string' }, name: { type: 'string' }, agency_id: { type: 'string' },
              region: { type: 'string', description: "The agency's region" },
            },
          },
        },
      },
    },
  });

  app.openapi(putOfficers, async (c) => {
    const batch = await readValidBatch(c, Officer, maxItems);
    if ('response' in batch) return batch.response;
    const officers = batch.values;
    const before = await store.storedAgencies(officers.map((o) => o.officer_id));
    const regions = await reference.storedRegions('agency', [...officers.map((o) => o.agency_id), ...before.values()]);
    const unknown = officers.flatMap((o, index) => (regions.has(o.agency_id)
      ? []
      : [{ index, field: 'agency_id', message: 'is not an agency on reference data: PUT it to /v1/agencies first' }]));
    if (unknown.length > 0) {
      return c.json({ error: 'validation_failed', message: `${unknown.length} problem(s) in ${officers.length} item(s); nothing was stored`, ...listed(unknown) }, 400);
    }
    const refused = officers.flatMap((o, index) => {
      const storedAgency = before.get(o.officer_id);
      return judgeUpsert(principalOf(c), OFFICER, { region: regions.get(o.agency_id)! }, storedAgency === undefined ? undefined : regions.get(storedAgency), index);
    });
    if (refused.length > 0) return refuseOutside(c, refused);
    await store.upsert(officers);
    return c.json({ upserted: officers.length });
  });

  // Inside the caller's jurisdiction only; a region outside it finds nothing.
  app.openapi(searchOfficers, async (c) => {
    const { q, agency, region, limit } = c.req.valid('query');
    const narrowed = narrowRegion(region, jurisdictionOf(c));
    if (narrowed === null) return c.json({ items: [] });
    return c.json({ items: await store.search({ text: q ?? '', agency: agency ?? '', region: narrowed ?? '', limit }) });
  }, requestErrors('bad search request'));

  return app;
}
