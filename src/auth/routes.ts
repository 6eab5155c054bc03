import { Hono } from 'hono';
import { auditContext, recordTokenChange, type AuditLog } from '../audit/index.js';
import { z } from 'zod';
import { invalid, readJson } from '../http/body.js';
import { fieldErrors } from '../http/query.js';
import { EnterpriseId } from '../ingest/index.js';
import type { Homes } from '../reference/index.js';
import { refuseOutside, within } from './jurisdiction.js';
import { principalOf } from './middleware.js';
import { can, PERMISSIONS, ROLES } from './roles.js';
import type { TokenStore } from './tokens.js';

export const Jurisdiction = z.string().regex(/^(\d{2}){0,3}$/, "must be '' (everywhere) or a division-code prefix of 2, 4 or 6 digits, e.g. 3714");

export const NewTokenBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(64).describe("The person who holds the token (for a shared token, the office): actions are recorded under this name"),
  unit: z.string().trim().max(64, 'must be at most 64 characters').default('').describe('The holder\'s unit, e.g. 德州市纪委监委'),
  shared: z.boolean({ message: 'must be true or false' }).default(false)
    .describe('An office token several people use: allowed, but every action with it is marked shared in the audit log'),
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
  jurisdiction: Jurisdiction.default(''),
  enterprise_id: EnterpriseId.optional(),
  expires_in_days: z.number().positive().max(3650).optional(),
}).strict().superRefine((body, ctx) => {
  if (body.role === 'enterprise' && !body.enterprise_id) ctx.addIssue({ code: 'custom', path: ['enterprise_id'], message: 'is required for role enterprise' });
  if (body.role !== 'enterprise' && body.enterprise_id) ctx.addIssue({ code: 'custom', path: ['enterprise_id'], message: 'is only for role enterprise' });
});

/** Token management (admins): create (the token is shown once), list, revoke. */
export function tokenRoutes(tokens: TokenStore, audit: AuditLog, homes: Pick<Homes, 'regions'>): Hono {
  const app = new Hono();

  app.post('/v1/tokens', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const body = NewTokenBody.safeParse(read.value);
    if (!body.success) return invalid(c, 'bad token request', fieldErrors(body.error, 'is not a known field'), 'validation_failed');
    const admin = principalOf(c);
    // An admin hands out at most what it holds.
    if (!body.data.jurisdiction.startsWith(admin.jurisdiction)) {
      return invalid(c, 'bad token request', [{ index: null, field: 'jurisdiction', message: `must lie within your own (${admin.jurisdiction})` }], 'validation_failed');
    }
    // A company's token reads the company's whole record: only an admin whose jurisdiction holds the company hands it out.
    const company = body.data.enterprise_id;
    if (company && admin.jurisdiction) {
      const home = (await homes.regions('enterprise', [company])).get(company);
      if (home === undefined || !within(home, admin.jurisdiction)) {
        return refuseOutside(c, [{ index: null, field: 'enterprise_id', message: `is not a company registered inside your jurisdiction (${admin.jurisdiction})` }]);
      }
    }
    const days = body.data.expires_in_days;
    // The audit entry is written before the token, like every other write: no token exists that the log does not name.
    const { token, record } = await tokens.create({
      name: body.data.name, unit: body.data.unit, shared: body.data.shared, role: body.data.role, jurisdiction: body.data.jurisdiction, enterprise_id: body.data.enterprise_id ?? '',
      expires_at: days ? new Date(Date.now() + days * 86_400_000) : null, created_by: admin.name,
    }, undefined, (created) => recordTokenChange(audit, { action: 'token.create', actor: admin.name, ...auditContext(c), token: created }));
    return c.json({ token, ...record }, 201);
  });

  // Who the caller is, as every action of theirs is recorded: the console shows it instead of asking for a name.
  app.get('/v1/me', (c) => {
    const me = principalOf(c);
    return c.json({ ...me, permissions: PERMISSIONS.filter((permission) => can(me.role, permission)) });
  });

  app.get('/v1/tokens', async (c) => {
    const admin = principalOf(c);
    const all = await tokens.list();
    return c.json({ items: all.filter((t) => t.jurisdiction.startsWith(admin.jurisdiction)) });
  });

  app.post('/v1/tokens/:id/revoke', async (c) => {
    const admin = principalOf(c);
    const existing = (await tokens.list()).find((t) => t.id === c.req.param('id') && t.jurisdiction.startsWith(admin.jurisdiction));
    if (!existing) return c.json({ error: 'not_found', message: 'no such token' }, 404);
    const revoked = await tokens.revoke(existing.id, admin.name,
      (record) => recordTokenChange(audit, { action: 'token.revoke', actor: admin.name, ...auditContext(c), token: record }));
    return c.json(revoked);
  });

  return app;
}
