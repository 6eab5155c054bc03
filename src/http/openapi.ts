import type { OpenAPIHono } from '@hono/zod-openapi';
import { AUDIT_ACTIONS, AUDIT_TARGET_KINDS } from '../audit/model.js';
import { ALERT_ACTIONS, ALERT_MODES, ALERT_STATUSES, CHANNELS, CLEARED, RESOLUTION_CODES, SEVERITIES } from '../alerts/model.js';
import { ASSIGNEE_KINDS, PRIORITIES, SLA_KINDS, TICKET_ACTIONS, TICKET_OUTCOMES, TICKET_SOURCES, TICKET_STATES } from '../hotline/model.js';
import { component, defineRoute } from './route.js';

/**
 * The OpenAPI 3.1 document at /openapi.json. Paths, parameters and request
 * bodies come from the routes' own declarations (src/http/route.ts), so the
 * document and the validation cannot disagree. What is written here is what
 * no request schema holds: the title, the security scheme, the tags, and the
 * shapes of answers (alerts, tickets and audit entries are computed, not
 * validated input; their enums come from the models).
 */
const TAGS = [
  { name: 'ingest', description: 'Events and reference data from the platforms' },
  { name: 'alerts', description: 'Alerts, their history and people\'s actions; silences; the live feed' },
  { name: 'hotline', description: '12345 hotline tickets' },
  { name: 'rules', description: 'The rule set in force' },
  { name: 'admin', description: 'Tokens and the audit log' },
  { name: 'operations', description: 'Health, metrics and this document' },
];

const FieldError = {
  type: 'object',
  required: ['index', 'field', 'message'],
  properties: {
    index: { type: ['integer', 'null'], description: 'Position of the item in the batch (null for request-level errors)' },
    field: { type: 'string', description: 'Dotted path of the bad field, e.g. officer_ids.0' },
    message: { type: 'string' },
  },
};

const ErrorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'Machine-readable code, e.g. validation_failed' },
    message: { type: 'string' },
    errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
  },
};

const time = { type: 'string', format: 'date-time' };
const text = { type: 'string' };
const strings = { type: 'array', items: text };
const localized = { type: 'object', required: ['zh', 'en'], properties: { zh: text, en: text } };

// Hand-written because alerts are computed, not validated input; the enums come from the model.
const alertProperties = {
  id: { type: 'string', description: 'Fingerprint of rule, correlation key and window: a repeated match lands on the same alert' },
  fingerprint: text,
  rule_id: text,
  rule_version: { type: 'integer' },
  variant: { type: 'string', description: "'' for the rule's main alert" },
  severity: { enum: [...SEVERITIES] },
  mode: { enum: [...ALERT_MODES] },
  channels: { type: 'array', items: { enum: [...CHANNELS] } },
  title: localized,
  message: localized,
  region: text,
  enterprise_id: text,
  agency_id: text,
  officer_ids: strings,
  window_start: time,
  window_end: time,
  anchor_at: time,
  first_seen_at: { ...time, description: 'Event time of the earliest evidence' },
  last_seen_at: { ...time, description: 'Event time of the latest evidence' },
  count: { type: 'integer' },
  evidence: {
    type: 'array',
    items: {
      type: 'object',
      required: ['event_id', 'type', 'occurred_at', 'role'],
      properties: {
        event_id: text, type: text, occurred_at: time, role: { type: 'string', description: 'e.g. trigger, counted, weak_match, exemption' },
        visit: { type: 'integer', minimum: 1, description: 'For rules that count visits: the counted visit (1, 2, …) this event is part of' },
      },
    },
  },
  figures: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  params: { type: 'object', description: 'The rule parameters in force for this region' },
  status: { enum: [...ALERT_STATUSES] },
  resolution: { enum: ['', ...RESOLUTION_CODES, CLEARED] },
  resolution_note: text,
  resolved_by: text,
  resolved_at: { type: ['string', 'null'], format: 'date-time' },
  acknowledged_by: text,
  acknowledged_at: { type: ['string', 'null'], format: 'date-time' },
  raised_at: time,
  updated_at: time,
  revision: { type: 'integer', description: 'Increases by one with every stored change' },
};
const AlertSchema = { type: 'object', required: Object.keys(alertProperties), properties: alertProperties };

const AlertChangeSchema = {
  type: 'object',
  required: ['alert_id', 'revision', 'at', 'actor', 'action', 'from_status', 'to_status', 'note'],
  properties: {
    alert_id: text,
    revision: { type: 'integer', description: 'The alert revision this change produced' },
    at: time,
    actor: { type: 'string', description: "A person, or 'system' for the engine" },
    action: { enum: [...ALERT_ACTIONS] },
    from_status: { enum: ['', ...ALERT_STATUSES] },
    to_status: { enum: [...ALERT_STATUSES] },
    note: text,
  },
};

const nullableTime = { type: ['string', 'null'], format: 'date-time' };

// Hand-written because tickets are computed, not validated input; the enums come from the model.
const ticketProperties = {
  id: { type: 'string', description: 'sha256 of source and source_id: a repeated complaint or alert lands on the same ticket' },
  source: { enum: [...TICKET_SOURCES] },
  source_id: { type: 'string', description: "The complaint event's id or the alert's id" },
  alert_id: { type: ['string', 'null'] },
  region: text,
  enterprise_id: text,
  agency_id: text,
  category: { type: 'string', description: 'A complaint category, the id of a rule, or other' },
  title: localized,
  description: { type: 'string', description: "The complaint's text or the alert's message (zh)" },
  priority: { enum: [...PRIORITIES], description: 'Raised one step by every missed SLA deadline' },
  state: { enum: [...TICKET_STATES] },
  claimed_by: { type: 'string', description: "'' when nobody holds a live claim" },
  claimed_until: { ...nullableTime, description: "End of the claim's lease; the holder's actions renew it" },
  assignee: {
    type: ['object', 'null'],
    required: ['kind', 'id'],
    properties: { kind: { enum: [...ASSIGNEE_KINDS] }, id: text },
  },
  outcome: { enum: ['', ...TICKET_OUTCOMES] },
  resolution_note: text,
  created_at: time,
  accepted_at: { ...nullableTime, description: 'The first claim' },
  accept_due_at: { ...time, description: 'HOTLINE_ACCEPT_SLA_MINUTES working minutes after creation' },
  resolve_due_at: { ...time, description: 'HOTLINE_RESOLVE_SLA_DAYS working days after creation (or the last reopening)' },
  resolved_at: nullableTime,
  sla_breaches: { type: 'array', items: { enum: [...SLA_KINDS] } },
  revision: { type: 'integer', description: 'Increases by one with every stored change' },
  updated_at: time,
};
const TicketSchema = { type: 'object', required: Object.keys(ticketProperties), properties: ticketProperties };

const TicketChangeSchema = {
  type: 'object',
  required: ['ticket_id', 'revision', 'at', 'actor', 'action', 'from_state', 'to_state', 'priority', 'note'],
  properties: {
    ticket_id: text,
    revision: { type: 'integer', description: 'The ticket revision this change produced' },
    at: time,
    actor: { type: 'string', description: "A person, or 'system' for timers" },
    action: { enum: [...TICKET_ACTIONS] },
    from_state: { enum: ['', ...TICKET_STATES] },
    to_state: { enum: [...TICKET_STATES] },
    priority: { enum: [...PRIORITIES] },
    note: text,
  },
};

const AuditEntrySchema = {
  type: 'object',
  required: ['id', 'at', 'actor', 'actor_role', 'action', 'target_kind', 'target_id', 'region', 'revision', 'before', 'after', 'note', 'request_id'],
  properties: {
    id: { type: 'string', description: 'Derived from the action (kind:target:revision; token:id:create|revoke): a retried write is one entry' },
    at: { ...time, description: 'When the change was made' },
    actor: text,
    actor_role: { type: 'string', description: "The actor's role ('' before authentication)" },
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

const COMPONENTS: Record<string, object> = {
    Alert: AlertSchema,
    AlertChange: AlertChangeSchema,
    AlertPage: {
      type: 'object',
      required: ['items', 'next_cursor'],
      properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Alert' } }, next_cursor: { type: ['string', 'null'] } },
    },
    AlertDetail: {
      allOf: [{ $ref: '#/components/schemas/Alert' }, {
        type: 'object',
        required: ['evidence_events', 'history'],
        properties: {
          evidence_events: {
            type: 'array',
            description: 'The stored events behind the alert, in evidence order; events not stored yet are left out',
            items: { type: 'object', required: ['role', 'event'], properties: { role: text, event: { $ref: '#/components/schemas/Event' } } },
          },
          history: { type: 'array', items: { $ref: '#/components/schemas/AlertChange' } },
        },
      }],
    },
    Silence: {
      type: 'object',
      required: ['id', 'matchers', 'reason', 'created_by', 'created_at', 'ends_at', 'expired_by', 'state'],
      properties: {
        id: { type: 'string' },
        matchers: { type: 'object', properties: { rule: text, region: text, agency: text, enterprise: text }, description: "'' matches anything; region is a prefix" },
        reason: text, created_by: text, created_at: text, ends_at: text, expired_by: text,
        state: { enum: ['active', 'expired'] },
      },
    },
    Ticket: TicketSchema,
    TicketChange: TicketChangeSchema,
    TicketPage: {
      type: 'object',
      required: ['items', 'next_cursor'],
      properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Ticket' } }, next_cursor: { type: ['string', 'null'] } },
    },
    TicketDetail: {
      allOf: [{ $ref: '#/components/schemas/Ticket' }, {
        type: 'object',
        required: ['notes', 'history'],
        properties: {
          notes: {
            type: 'array',
            items: { type: 'object', required: ['at', 'actor', 'text'], properties: { at: time, actor: text, text } },
          },
          history: { type: 'array', items: { $ref: '#/components/schemas/TicketChange' } },
        },
      }],
    },
    AuditEntry: AuditEntrySchema,
    AuditPage: {
      type: 'object',
      required: ['items', 'next_cursor'],
      properties: { items: { type: 'array', items: { $ref: '#/components/schemas/AuditEntry' } }, next_cursor: { type: ['string', 'null'] } },
    },
    FieldError,
    Error: ErrorBody,
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
    Upserted: { type: 'object', required: ['upserted'], properties: { upserted: { type: 'integer' } } },
    TimelinePage: {
      type: 'object',
      required: ['enterprise_id', 'items', 'next_cursor'],
      properties: {
        enterprise_id: { type: 'string' },
        items: { type: 'array', items: { $ref: '#/components/schemas/Event' } },
        next_cursor: { type: ['string', 'null'] },
      },
    },
};

/** Serves /openapi.json for every route mounted on `app` so far (call it last). */
export function serveOpenApi(app: OpenAPIHono, limits: { maxItems: number; maxBytes: number }): void {
  for (const [name, schema] of Object.entries(COMPONENTS)) component(app, name, schema);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http', scheme: 'bearer', description: 'An API token (qjt_…): `qingjian tokens create`, or POST /v1/tokens',
  });
  const route = defineRoute({
    method: 'get', path: '/openapi.json', access: 'public', tags: ['operations'],
    summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } },
  });
  let document: object | undefined;
  app.openapi(route, (c) => c.json(document ??= app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Qingjian 清检 API',
      version: '1',
      description: 'Real-time monitoring of administrative inspections of companies. ' +
        `Batches carry at most ${limits.maxItems} items and ${limits.maxBytes} bytes.`,
    },
    tags: TAGS,
  })));
}
