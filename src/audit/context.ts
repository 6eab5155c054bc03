import type { Context } from 'hono';
import type { Principal } from '../auth/tokens.js';
import type { AuditContext } from './model.js';

/**
 * What a request adds to its audit entry, read in this one place: the acting
 * token, which the authentication middleware sets as the context variable
 * `actor` (Principal: id, role, unit, shared), and the request id (a `requestId`
 * context variable, as hono's request-id middleware sets, else the X-Request-Id header).
 */
export function auditContext(c: Context): AuditContext {
  const vars = c.var as Record<string, unknown>;
  const actor = vars.actor as Partial<Principal> | undefined;
  const requestId = vars.requestId ?? c.req.header('x-request-id');
  return {
    actor_role: actor?.role ?? '',
    actor_token: actor?.id ?? '',
    actor_unit: actor?.unit ?? '',
    actor_shared: actor?.shared ?? false,
    request_id: typeof requestId === 'string' ? requestId.slice(0, 128) : '',
  };
}
