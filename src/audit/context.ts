import type { Context } from 'hono';
import type { AuditContext } from './model.js';

/**
 * What a request adds to its audit entry, read in this one place: the actor's
 * role, which the authentication middleware sets as the context variable
 * `actor_role` (the caller's token role), and the request id (a `requestId` context
 * variable, as hono's request-id middleware sets, else the X-Request-Id header).
 */
export function auditContext(c: Context): AuditContext {
  const vars = c.var as Record<string, unknown>;
  const role = vars.actor_role;
  const requestId = vars.requestId ?? c.req.header('x-request-id');
  return {
    actor_role: typeof role === 'string' ? role : '',
    request_id: typeof requestId === 'string' ? requestId.slice(0, 128) : '',
  };
}
