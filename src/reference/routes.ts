import { Hono } from 'hono';
import { inJurisdiction, jurisdictionOf, within } from '../auth/index.js';
import { Agency, Enterprise, readValidBatch } from '../ingest/index.js';
import type { ReferenceStore } from './store.js';

/** Bulk upserts and lookups of companies and agencies; same validation rules as events. */
export function referenceRoutes(store: ReferenceStore, maxItems: number): Hono {
  const app = new Hono();

  app.put('/v1/enterprises', async (c) => {
    const batch = await readValidBatch(c, Enterprise, maxItems, inJurisdiction(jurisdictionOf(c)));
    if ('response' in batch) return batch.response;
    await store.upsertEnterprises(batch.values);
    return c.json({ upserted: batch.values.length });
  });

  app.put('/v1/agencies', async (c) => {
    const batch = await readValidBatch(c, Agency, maxItems, inJurisdiction(jurisdictionOf(c)));
    if ('response' in batch) return batch.response;
    await store.upsertAgencies(batch.values);
    return c.json({ upserted: batch.values.length });
  });

  app.get('/v1/enterprises/:id', async (c) => {
    const enterprise = await store.enterprise(c.req.param('id'));
    return enterprise && within(enterprise.region, jurisdictionOf(c)) ? c.json(enterprise) : c.json({ error: 'not_found', message: 'no such enterprise' }, 404);
  });

  app.get('/v1/agencies/:id', async (c) => {
    const agency = await store.agency(c.req.param('id'));
    return agency && within(agency.region, jurisdictionOf(c)) ? c.json(agency) : c.json({ error: 'not_found', message: 'no such agency' }, 404);
  });

  return app;
}
