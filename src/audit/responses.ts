import { page, shapes } from '../http/route.js';
import { AUDIT_ACTIONS, AUDIT_TARGET_KINDS } from './model.js';

/** What the audit route answers, for the OpenAPI document (hand-written: entries are computed, not validated input). */
const { time, text } = shapes;

const AuditEntrySchema = {
  type: 'object',
  required: ['id', 'at', 'actor', 'actor_role', 'actor_token', 'actor_unit', 'actor_shared', 'action', 'target_kind', 'target_id', 'region', 'revision', 'before', 'after', 'note', 'request_id'],
  properties: {
    id: { type: 'string', description: 'Derived from the action (kind:target:revision; token:id:create|revoke): a retried write is one entry' },
    at: { ...time, description: 'When the change was made' },
    actor: text,
    actor_role: { type: 'string', description: "The actor's role ('' before authentication)" },
    actor_token: { type: 'string', description: "The id of the token that acted ('' for entries older than people on tokens)" },
    actor_unit: { type: 'string', description: 'The unit on that token' },
    actor_shared: { type: 'boolean', description: "The token is an office's shared one: the entry names the office, not one person" },
    action: { enum: [...AUDIT_ACTIONS] },
    target_kind: { enum: [...AUDIT_TARGET_KINDS] },
    target_id: text,
    region: { type: 'string', description: "The target's division code (a silence's region matcher, a token's jurisdiction); '' for none" },
    revision: { type: 'integer', description: 'The target revision the action produced (0 for tokens)' },
    before: { type: 'object', description: 'The fields the action changed, as they were' },
    after: { type: 'object', description: 'The same fields as they became (never a secret)' },
    note: text,
    request_id: { type: 'string', description: 'X-Request-Id of the request, if it had one' },
  },
};

export const AUDIT_ANSWERS = { AuditEntry: AuditEntrySchema, AuditPage: page('AuditEntry') };
