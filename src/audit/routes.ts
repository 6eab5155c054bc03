import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { Cursor, firstValues, TimeBound } from '../http/query.js';
import { components, defineRoute, failure, json, ref, requestErrors, routeGroup } from '../http/route.js';
import { decodeAuditCursor, type AuditLog } from './log.js';
import { AUDIT_ACTIONS, AUDIT_TARGET_KINDS } from './model.js';
import { AUDIT_ANSWERS } from './responses.js';

const oneOf = (values: readonly string[]) => ({ message: `must be one of ${values.join(', ')}` });

export const AuditListParams = z.object({
  actor: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional(),
  action: z.enum(AUDIT_ACTIONS, oneOf(AUDIT_ACTIONS)).optional(),
  target_kind: z.enum(AUDIT_TARGET_KINDS, oneOf(AUDIT_TARGET_KINDS)).optional(),
  target_id: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional()
    .describe('Prefix of the division code of the target (an alert\'s or ticket\'s region, a silence\'s region matcher, a token\'s jurisdiction)'),
  from: TimeBound.optional(),
  to: TimeBound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: Cursor(decodeAuditCursor).optional(),
}).strict().refine((p) => !p.from || !p.to || p.from < p.to, { message: 'must be after from', path: ['to'] });

const listAudit = defineRoute({
  method: 'get', path: '/v1/audit', access: ['audit:read'], tags: ['admin'],
  summary: "People's actions (alerts, silences, tickets, tokens), newest first, for admins",
  description: "Refused actions (409) and the system's own changes are not entries; a caller limited to a jurisdiction only sees entries inside it.",
  request: { query: firstValues(AuditListParams) },
  responses: { 200: json('One page', ref('AuditPage')), 400: failure('Bad parameters (named in errors)') },
});

export interface AuditRoutesOptions {
  /**
   * The division-code prefix the caller is limited to (the token's
   * jurisdiction), or null for everywhere. A requested `region` narrows it
   * further; one outside it finds nothing.
   */
  regionPrefix?: (c: Context) => string | null;
}

/** The audit log over HTTP: GET /v1/audit, newest first, for admins. */
export function auditRoutes(audit: AuditLog, options: AuditRoutesOptions = {}): OpenAPIHono {
  const app = routeGroup();
  components(app, AUDIT_ANSWERS);

  app.openapi(listAudit, async (c) => {
    const { region, ...query } = c.req.valid('query');
    const region_prefix = within(options.regionPrefix?.(c) ?? null, region);
    if (region_prefix === null) return c.json({ items: [], next_cursor: null });
    return c.json(await audit.query({ ...query, region_prefix }));
  }, requestErrors('bad audit request'));

  return app;
}

/** The narrower of the forced and the requested prefix; null when they are disjoint (nothing may be shown). */
function within(forced: string | null, requested: string | undefined): string | undefined | null {
  if (!forced) return requested;
  if (requested === undefined || requested.startsWith(forced)) return requested ?? forced;
  return forced.startsWith(requested) ? forced : null;
}
