/**
 * The audit log: one entry per person's action that changed something (an
 * alert acknowledged, a silence created, a ticket claimed, a token revoked),
 * with who, when, the fields before and after, and the request it came from.
 * Actions the system takes (raising, clearing, escalating, lapsing claims,
 * SLA breaches) are in the alert and ticket histories, not here; refused
 * actions (409) changed nothing and are not entries either.
 *
 * An entry's id is derived from the action (`kind:target:revision` for
 * targets with revisions), so a retried write of the same action folds.
 */
export const AUDIT_ACTIONS = [
  'alert.acknowledge', 'alert.resolve', 'alert.reopen',
  'silence.create', 'silence.expire',
  'ticket.claim', 'ticket.release', 'ticket.assign', 'ticket.categorise', 'ticket.note', 'ticket.callback', 'ticket.resolve', 'ticket.reopen',
  'token.create', 'token.revoke',
  'backup.create',
  'plan.suggest',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGET_KINDS = ['alert', 'silence', 'ticket', 'token', 'backup', 'plan'] as const;
export type AuditTargetKind = (typeof AUDIT_TARGET_KINDS)[number];

export type Fields = Record<string, unknown>;

export interface AuditEntry {
  /** Deterministic from the action: the same action written twice is one entry. */
  id: string;
  /** When the change was made (RFC 3339, UTC). */
  at: string;
  /** The person who acted: the name on their token (for a shared token, the office's). */
  actor: string;
  /** The actor's role ('' until authentication sets one). */
  actor_role: string;
  /** The id of the token that acted ('' for entries recorded before tokens carried people). */
  actor_token: string;
  /** The unit on that token. */
  actor_unit: string;
  /** The token is an office's shared one: the entry names the office, not one person. */
  actor_shared: boolean;
  action: AuditAction;
  target_kind: AuditTargetKind;
  target_id: string;
  /** Division code (prefix) the target belongs to: an alert's or ticket's region, a silence's region matcher, a token's jurisdiction; '' for none. */
  region: string;
  /** The target's revision this action produced (0 for targets without revisions). */
  revision: number;
  /** The fields the action changed, as they were and as they became. Never secrets. */
  before: Fields;
  after: Fields;
  note: string;
  request_id: string;
}

/** What the HTTP request adds to an action: the acting token (role, id, unit, shared) and the request's id. */
export interface AuditContext {
  actor_role: string;
  request_id: string;
  actor_token?: string;
  actor_unit?: string;
  actor_shared?: boolean;
}

export const NO_CONTEXT: AuditContext = { actor_role: '', request_id: '' };

/** The acting token's fields of an entry, from a context. */
export const actorOf = (context: AuditContext) => ({
  actor_role: context.actor_role, actor_token: context.actor_token ?? '', actor_unit: context.actor_unit ?? '', actor_shared: context.actor_shared ?? false,
});

/** The id of an action that produced `revision` of a target: a retry of it produces the same id. */
export const revisionAuditId = (kind: AuditTargetKind, targetId: string, revision: number) => `${kind}:${targetId}:${revision}`;

// Bookkeeping every revision changes; the entry's `at` and `revision` carry them.
const BOOKKEEPING = new Set(['updated_at', 'revision']);

/** The top-level fields that differ between two states (compared as JSON), split into before and after. */
export function changedFields(before: object, after: object, ignore: ReadonlySet<string> = BOOKKEEPING): { before: Fields; after: Fields } {
  const b = before as Fields;
  const a = after as Fields;
  const out = { before: {} as Fields, after: {} as Fields };
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (ignore.has(key) || JSON.stringify(b[key]) === JSON.stringify(a[key])) continue;
    if (key in b) out.before[key] = b[key];
    if (key in a) out.after[key] = a[key];
  }
  return out;
}

/** The entry of an action that took a revisioned target (alert, ticket, silence) from `before` to `after`. */
export function revisionAudit(input: {
  target_kind: AuditTargetKind;
  target_id: string;
  revision: number;
  action: AuditAction;
  actor: string;
  at: string;
  region: string;
  note: string;
  before: object;
  after: object;
  context: AuditContext;
}): AuditEntry {
  return {
    id: revisionAuditId(input.target_kind, input.target_id, input.revision),
    at: input.at,
    actor: input.actor,
    ...actorOf(input.context),
    action: input.action,
    target_kind: input.target_kind,
    target_id: input.target_id,
    region: input.region,
    revision: input.revision,
    ...changedFields(input.before, input.after),
    note: input.note,
    request_id: input.context.request_id,
  };
}

/** What an audit entry may say about an API token: never the token itself or its hash. */
export interface AuditedToken {
  id: string;
  name: string;
  role: string;
  /** Division-code prefix the token is limited to; '' or null for everywhere. */
  jurisdiction: string | null;
}

export interface TokenChange {
  action: 'token.create' | 'token.revoke';
  /** Who created or revoked the token (the admin's token name). */
  actor: string;
  actor_role: string;
  /** The admin's token, unit and whether it is shared (as in AuditContext). */
  actor_token?: string;
  actor_unit?: string;
  actor_shared?: boolean;
  token: AuditedToken;
  at?: Date;
  note?: string;
  request_id?: string;
}

/**
 * The entry for a token created or revoked. Only id, name, role and
 * jurisdiction are read from `token`, whatever else the object carries.
 * A token is created once and revoked once, so the id is `token:<id>:create|revoke`.
 */
export function tokenAudit(change: TokenChange): AuditEntry {
  const { id, name, role } = change.token;
  const jurisdiction = change.token.jurisdiction ?? '';
  const described = { name, role, jurisdiction };
  const created = change.action === 'token.create';
  return {
    id: `token:${id}:${created ? 'create' : 'revoke'}`,
    at: (change.at ?? new Date()).toISOString(),
    actor: change.actor,
    ...actorOf({ ...change, request_id: change.request_id ?? '' }),
    action: change.action,
    target_kind: 'token',
    target_id: id,
    region: jurisdiction,
    revision: 0,
    before: created ? {} : { ...described, state: 'active' },
    after: created ? { ...described, state: 'active' } : { state: 'revoked' },
    note: change.note ?? '',
    request_id: change.request_id ?? '',
  };
}

// Defence in depth: whatever a caller passes, fields named like credentials are never stored.
const SECRET_KEY = /secret|hash|password|passwd|credential|^token$|bearer/i;

export function redact(fields: Fields): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key)) continue;
    out[key] = value !== null && typeof value === 'object' && !Array.isArray(value) ? redact(value as Fields) : value;
  }
  return out;
}
