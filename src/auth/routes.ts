import type { OpenAPIHono } from '@hono/zod-openapi';
import { recordTokenChange, type AuditLog } from '../audit/index.js';
import { z } from 'zod';
import { invalid } from '../http/body.js';
import { components, defineRoute, failure, json, jsonBody, ref, requestErrors, routeGroup, shapes } from '../http/route.js';
import { EnterpriseId } from '../ingest/schema.js';
import type { Homes } from '../reference/index.js';
import { refuseOutside, within } from './jurisdiction.js';
import { principalOf } from './middleware.js';
import { ROLES } from './roles.js';
import type { TokenStore } from './tokens.js';

export const Jurisdiction = z.string().regex(/^(\d{2}){0,3}$/, "must be '' (everywhere) or a division-code prefix of 2, 4 or 6 digits, e.g. 3714");

export const NewTokenBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(64),
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
  jurisdiction: Jurisdiction.default(''),
  enterprise_id: EnterpriseId.optional(),
  expires_in_days: z.number().positive().max(3650).optional(),
}).strict().superRefine((body, ctx) => {
  if (body.role === 'enterprise' && !body.enterprise_id) ctx.addIssue({ code: 'custom', path: ['enterprise_id'], message: 'is required for role enterprise' });
  if (body.role !== 'enterprise' && body.enterprise_id) ctx.addIssue({ code: 'custom', path: ['enterprise_id'], message: 'is only for role enterprise' });
}).meta({ id: 'NewTokenBody' });

const access = ['tokens:admin'] as const;
const tags = ['admin'];
const { text, nullableTime } = shapes;
// Hand-written because records are computed, not validated input (src/auth/tokens.ts TokenRecord).
const TokenSchema = {
  type: 'object',
  required: ['id', 'name', 'role', 'jurisdiction', 'enterprise_id', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'revoked_by'],
  properties: {
    token: { type: 'string', description: 'The secret (qjt_…): in the answer to its creation only, never again' },
    id: text, name: text, role: { enum: [...ROLES] },
    jurisdiction: { type: 'string', description: "Division-code prefix the token sees ('' = everywhere)" },
    enterprise_id: { type: 'string', description: "The company an enterprise token belongs to ('' otherwise)" },
    created_by: text, created_at: text, expires_at: nullableTime, revoked_at: nullableTime, revoked_by: text,
  },
};
const tokenRecord = ref('Token');

const createToken = defineRoute({
  method: 'post', path: '/v1/tokens', access, tags,
  summary: 'Create a token (the token itself is in this answer only)',
  request: { body: jsonBody(NewTokenBody) },
  responses: {
    201: json('The token and its record', tokenRecord),
    400: failure('A bad field (named in errors)'),
    403: failure('The company named is not inside your jurisdiction'),
    415: failure('Content-Type is not JSON'),
  },
});

const listTokens = defineRoute({
  method: 'get', path: '/v1/tokens', access, tags,
  summary: 'Tokens inside your jurisdiction (never their secrets)',
  responses: { 200: json('{items: token records}', { type: 'object', properties: { items: { type: 'array', items: tokenRecord } } }) },
});

const revokeToken = defineRoute({
  method: 'post', path: '/v1/tokens/{id}/revoke', access, tags,
  summary: 'Revoke a token now',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: json('The revoked token', tokenRecord), 404: failure('Unknown token') },
});

/** Token management (admins): create (the token is shown once), list, revoke. */
export function tokenRoutes(tokens: TokenStore, audit: AuditLog, homes: Pick<Homes, 'regions'>): OpenAPIHono {
  const app = routeGroup();
  components(app, { Token: TokenSchema });

  app.openapi(createToken, async (c) => {
    const body = c.req.valid('json');
    const admin = principalOf(c);
    // An admin hands out at most what it holds.
    if (!body.jurisdiction.startsWith(admin.jurisdiction)) {
      return invalid(c, 'bad token request', [{ index: null, field: 'jurisdiction', message: `must lie within your own (${admin.jurisdiction})` }], 'validation_failed');
    }
    // A company's token reads the company's whole record: only an admin whose jurisdiction holds the company hands it out.
    const company = body.enterprise_id;
    if (company && admin.jurisdiction) {
      const home = (await homes.regions('enterprise', [company])).get(company);
      if (home === undefined || !within(home, admin.jurisdiction)) {
        return refuseOutside(c, [{ index: null, field: 'enterprise_id', message: `is not a company registered inside your jurisdiction (${admin.jurisdiction})` }]);
      }
    }
    const days = body.expires_in_days;
    const { token, record } = await tokens.create({
      name: body.name, role: body.role, jurisdiction: body.jurisdiction, enterprise_id: body.enterprise_id ?? '',
      expires_at: days ? new Date(Date.now() + days * 86_400_000) : null, created_by: admin.name,
    });
    await recordTokenChange(audit, { action: 'token.create', actor: admin.name, actor_role: admin.role, token: record });
    return c.json({ token, ...record }, 201);
  }, requestErrors('bad token request', 'bad token request'));

  app.openapi(listTokens, async (c) => {
    const admin = principalOf(c);
    const all = await tokens.list();
    return c.json({ items: all.filter((t) => t.jurisdiction.startsWith(admin.jurisdiction)) });
  });

  app.openapi(revokeToken, async (c) => {
    const admin = principalOf(c);
    const existing = (await tokens.list()).find((t) => t.id === c.req.param('id') && t.jurisdiction.startsWith(admin.jurisdiction));
    if (!existing) return c.json({ error: 'not_found', message: 'no such token' }, 404);
    const revoked = await tokens.revoke(existing.id, admin.name);
    if (revoked && !existing.revoked_at) await recordTokenChange(audit, { action: 'token.revoke', actor: admin.name, actor_role: admin.role, token: revoked });
    return c.json(revoked);
  });

  return app;
}
