import type { OpenAPIHono } from '@hono/zod-openapi';
import { can, principalOf, refuseOutside } from '../auth/index.js';
import { listed } from '../http/json.js';
import { components, defineRoute, json, ref, routeGroup } from '../http/route.js';
import type { Homes } from '../reference/homes.js';
import type { EventAcceptor } from './accept.js';
import { batchBody, batchErrors, batchItem, readValidBatch } from './batch.js';
import { judgeEvents } from './jurisdiction.js';
import { Event } from './schema.js';

export interface IngestRoutesOptions {
  acceptor: EventAcceptor;
  homes: Homes;
  maxEvents: number;
  maxFutureSkewSeconds: number;
}

const postEvents = defineRoute({
  method: 'post', path: '/v1/events', access: ['events:write', 'complaints:write'], tags: ['ingest'],
  summary: 'Submit events (one, a JSON array, or NDJSON)',
  description: 'Answers 202 once every event is durably queued. The same id submitted again by the same sender (source, in the jurisdiction of the token) is reported as a duplicate and stored once.',
  request: { body: batchBody('Event') },
  responses: { 202: json('Queued', ref('Acceptance')), ...batchErrors },
});

/** POST /v1/events: one event, a JSON array, or NDJSON; 202 once durably queued. */
export function ingestRoutes(options: IngestRoutesOptions): OpenAPIHono {
  const app = routeGroup();
  components(app, {
    Event: batchItem(Event),
    Acceptance: {
      type: 'object',
      required: ['accepted', 'duplicates', 'ids', 'duplicate_ids'],
      properties: {
        accepted: { type: 'integer', description: 'Events queued by this request' },
        duplicates: { type: 'integer', description: 'Items whose id was already accepted' },
        ids: { type: 'array', items: { type: 'string' } },
        duplicate_ids: { type: 'array', items: { type: 'string' } },
      },
    },
  });
  app.openapi(postEvents, async (c) => {
    const caller = principalOf(c);
    const batch = await readValidBatch(c, Event, options.maxEvents, (event) => {
      const skewMs = Date.parse(event.occurred_at) - Date.now();
      return skewMs > options.maxFutureSkewSeconds * 1000
        ? [{ field: 'occurred_at', message: `is ${Math.round(skewMs / 1000)} s in the future (clock skew allowed: ${options.maxFutureSkewSeconds} s)` }]
        : [];
    });
    if ('response' in batch) return batch.response;
    // The hotline files complaints taken on the phone, and nothing else.
    if (!can(caller.role, 'events:write')) {
      const others = batch.values.flatMap((e, index) => (e.type === 'complaint' ? [] : [{ index, field: 'type', message: 'this token may send complaints only' }]));
      if (others.length > 0) return c.json({ error: 'forbidden', message: 'this token may send complaints only; nothing was accepted', ...listed(others) }, 403);
    }
    const refused = await judgeEvents(batch.values, caller.jurisdiction, options.homes);
    if (refused.length > 0) return refuseOutside(c, refused);
    const result = await options.acceptor.accept(batch.values, caller.jurisdiction);
    return c.json(result, 202);
  });
  return app;
}
