import { Hono } from 'hono';
import { z } from 'zod';
import { AckBody, CreateSilenceBody, ExpireSilenceBody, ReopenBody, ResolveBody } from '../alerts/index.js';
import { AUDIT_ACTIONS, AUDIT_TARGET_KINDS } from '../audit/index.js';
import { ALERT_ACTIONS, ALERT_MODES, ALERT_STATUSES, CHANNELS, CLEARED, RESOLUTION_CODES, SEVERITIES } from '../alerts/model.js';
import { Agency, Enterprise, Event } from '../ingest/index.js';
import {
  AssignBody, CategoriseBody, ClaimBody, NoteBody, ReleaseBody, ReopenTicketBody, ResolveTicketBody,
  ASSIGNEE_KINDS, PRIORITIES, SLA_KINDS, TICKET_ACTIONS, TICKET_OUTCOMES, TICKET_SOURCES, TICKET_STATES,
} from '../hotline/index.js';

/**
 * OpenAPI 3.1 for the public contract. Component schemas are generated from
 * the same zod schemas that validate requests, so the two cannot disagree.
 */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

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

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const batchBody = (ref: string) => ({
  required: true,
  content: {
    'application/json': { schema: { oneOf: [{ $ref: ref }, { type: 'array', items: { $ref: ref } }] } },
    'application/x-ndjson': { schema: { $ref: ref }, description: 'One item per line' },
  },
});

const batchErrors = {
  400: errorResponse('Malformed or too deeply nested JSON, or invalid items; lists the problems (at most 100); nothing was stored'),
  403: errorResponse("An item touches data outside the token's jurisdiction (its region, or the home of a company or agency it names); names each; nothing was stored"),
  408: errorResponse('The body did not arrive within REQUEST_BODY_TIMEOUT_MS'),
  413: errorResponse('Body or item count over the limit'),
  415: errorResponse('Content-Type missing, or not JSON or NDJSON'),
  503: errorResponse('Redis or ClickHouse unavailable; nothing was accepted, retry'),
};

const jsonBody = (ref: string) => ({ required: true, content: { 'application/json': { schema: { $ref: ref } } } });
const jsonResponse = (description: string, ref: string) => ({ description, content: { 'application/json': { schema: { $ref: ref } } } });
const alertIdParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: "The alert's fingerprint" };

const alertAction = (summary: string, body: string) => ({
  post: {
    summary,
    parameters: [alertIdParameter],
    requestBody: jsonBody(body),
    responses: {
      200: jsonResponse('The alert after the change', '#/components/schemas/Alert'),
      400: errorResponse('Malformed JSON or a bad field (named in errors)'),
      404: errorResponse('Unknown alert'),
      409: errorResponse('The alert is not in a state this action applies to'),
      415: errorResponse('Content-Type is not JSON'),
      503: errorResponse("The alert's company is being re-evaluated, or a backing service is unavailable; nothing changed, retry"),
    },
  },
});

const queryParameter = (name: string, schema: object, description?: string) => ({ name, in: 'query', schema, ...(description ? { description } : {}) });

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

const ticketIdParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: "sha256 of its source: the alert's id, or the complaint's company and event id (32 hex characters)" };

const ticketAction = (summary: string, body: string) => ({
  post: {
    summary,
    parameters: [ticketIdParameter],
    requestBody: jsonBody(body),
    responses: {
      200: jsonResponse('The ticket after the change', '#/components/schemas/Ticket'),
      400: errorResponse('Malformed JSON or a bad field (named in errors)'),
      404: errorResponse('Unknown ticket'),
      409: {
        description: 'The ticket is not in a state this action applies to, or someone else holds its claim (named in claimed_by)',
        content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { claimed_by: text } }] } } },
      },
      415: errorResponse('Content-Type is not JSON'),
      503: errorResponse('The ticket is being changed by someone else, or a backing service is unavailable; nothing changed, retry'),
    },
  },
});

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
  required: ['id', 'at', 'actor', 'actor_role', 'actor_token', 'actor_unit', 'actor_shared', 'action', 'target_kind', 'target_id', 'region', 'revision', 'before', 'after', 'note', 'request_id'],
  properties: {
    id: { type: 'string', description: 'Derived from the action (kind:target:revision; token:id:create|revoke): a retried write is one entry' },
    at: { ...time, description: 'When the change was made' },
    actor: { type: 'string', description: "The name on the token that acted (a person, or an office's shared token)" },
    actor_role: { type: 'string', description: "The actor's role ('' before authentication)" },
    actor_token: { type: 'string', description: "The id of the token that acted ('' for entries older than people on tokens)" },
    actor_unit: { type: 'string', description: "The unit on that token" },
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

export function openApiDocument(limits: { maxItems: number; maxBytes: number }) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Qingjian 清检 API',
      version: '1',
      description: 'Real-time monitoring of administrative inspections of companies. ' +
        `Batches carry at most ${limits.maxItems} items and ${limits.maxBytes} bytes.`,
    },
    paths: {
      '/v1/events': {
        post: {
          summary: 'Submit events (one, a JSON array, or NDJSON)',
          description: 'Answers 202 once every event is durably queued. The same id submitted again by the same sender (source, in the jurisdiction of the token) is reported as a duplicate and stored once.',
          requestBody: batchBody('#/components/schemas/Event'),
          responses: {
            202: { description: 'Queued', content: { 'application/json': { schema: { $ref: '#/components/schemas/Acceptance' } } } },
            ...batchErrors,
          },
        },
      },
      '/v1/enterprises': {
        put: {
          summary: 'Upsert companies (reference data)',
          requestBody: batchBody('#/components/schemas/Enterprise'),
          responses: { 200: { description: 'Stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Upserted' } } } }, ...batchErrors },
        },
      },
      '/v1/agencies': {
        put: {
          summary: 'Upsert agencies (reference data)',
          requestBody: batchBody('#/components/schemas/Agency'),
          responses: { 200: { description: 'Stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Upserted' } } } }, ...batchErrors },
        },
      },
      '/v1/enterprises/{id}': {
        get: {
          summary: 'One company',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'Found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Enterprise' } } } }, 404: errorResponse('Unknown company') },
        },
      },
      '/v1/agencies/{id}': {
        get: {
          summary: 'One agency',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'Found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Agency' } } } }, 404: errorResponse('Unknown agency') },
        },
      },
      '/v1/enterprises/{id}/timeline': {
        get: {
          summary: "A company's events in event-time order (its public inspection record)",
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Unified social credit code' },
            { name: 'from', in: 'query', schema: { type: 'string' }, description: 'Inclusive; RFC 3339 or YYYY-MM-DD (Asia/Shanghai)' },
            { name: 'to', in: 'query', schema: { type: 'string' }, description: 'Exclusive; RFC 3339 or YYYY-MM-DD (Asia/Shanghai)' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'next_cursor of the previous page' },
          ],
          responses: {
            200: { description: 'One page', content: { 'application/json': { schema: { $ref: '#/components/schemas/TimelinePage' } } } },
            400: errorResponse('Bad id or parameters'),
          },
        },
      },
      '/v1/alerts': {
        get: {
          summary: 'Alerts, newest first by first_seen_at (event time)',
          parameters: [
            queryParameter('rule', text),
            queryParameter('severity', { enum: [...SEVERITIES] }),
            queryParameter('status', { enum: [...ALERT_STATUSES] }),
            queryParameter('mode', { enum: [...ALERT_MODES] }),
            queryParameter('region', text, 'Prefix of the division code: 37, 3714 or 371402'),
            queryParameter('agency', text),
            queryParameter('enterprise', text),
            queryParameter('variant', text, "'' selects rules' main alerts"),
            queryParameter('from', text, 'first_seen_at from (inclusive); RFC 3339 or YYYY-MM-DD (Asia/Shanghai)'),
            queryParameter('to', text, 'first_seen_at before (exclusive); RFC 3339 or YYYY-MM-DD (Asia/Shanghai)'),
            queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            queryParameter('cursor', text, 'next_cursor of the previous page'),
          ],
          responses: {
            200: jsonResponse('One page', '#/components/schemas/AlertPage'),
            400: errorResponse('Bad parameters (named in errors)'),
          },
        },
      },
      '/v1/alerts/{id}': {
        get: {
          summary: 'One alert with its evidence events and history',
          parameters: [alertIdParameter],
          responses: { 200: jsonResponse('Found', '#/components/schemas/AlertDetail'), 404: errorResponse('Unknown alert') },
        },
      },
      '/v1/alerts/{id}/ack': alertAction('Acknowledge an open alert', '#/components/schemas/AckBody'),
      '/v1/alerts/{id}/resolve': alertAction('Resolve an alert with a resolution code', '#/components/schemas/ResolveBody'),
      '/v1/alerts/{id}/reopen': alertAction('Reopen a resolved alert (a note saying why is required)', '#/components/schemas/ReopenBody'),
      '/v1/alerts/stream': {
        get: {
          summary: 'The live alert feed: a WebSocket (subscribe, replay after a seq, then live; see the README "Live feed")',
          responses: {
            101: { description: 'Switching to the WebSocket protocol' },
            426: errorResponse('Plain HTTP: this path only upgrades'),
          },
        },
      },
      '/v1/silences': {
        get: {
          summary: 'Silences, newest first',
          parameters: [queryParameter('state', { enum: ['active', 'expired', 'all'], default: 'active' })],
          responses: { 200: { description: '{items: Silence[]}', content: { 'application/json': { schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Silence' } } } } } } } },
        },
        post: {
          summary: 'Silence matching alerts: stored, marked silenced_by, pushed to nobody',
          requestBody: jsonBody('#/components/schemas/CreateSilenceBody'),
          responses: {
            201: jsonResponse('Created', '#/components/schemas/Silence'),
            400: errorResponse('A bad field (named in errors)'),
            415: errorResponse('Content-Type is not JSON'),
          },
        },
      },
      '/v1/silences/{id}': {
        get: {
          summary: 'One silence',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: jsonResponse('Found', '#/components/schemas/Silence'), 404: errorResponse('Unknown silence') },
        },
      },
      '/v1/silences/{id}/expire': {
        post: {
          summary: 'End a silence now',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody('#/components/schemas/ExpireSilenceBody'),
          responses: { 200: jsonResponse('The expired silence', '#/components/schemas/Silence'), 400: errorResponse('A bad field'), 404: errorResponse('Unknown silence') },
        },
      },
      '/v1/hotline/tickets': {
        get: {
          summary: 'The hotline queue: urgent first, then oldest first',
          parameters: [
            queryParameter('state', { enum: [...TICKET_STATES] }, 'Unset: every ticket that is not resolved; a lapsed claim counts as new'),
            queryParameter('priority', { enum: [...PRIORITIES] }),
            queryParameter('category', text),
            queryParameter('region', text, 'Prefix of the division code: 37, 3714 or 371402'),
            queryParameter('source', { enum: [...TICKET_SOURCES] }),
            queryParameter('claimed_by', text, 'Holder of a live claim'),
            queryParameter('assignee_kind', { enum: [...ASSIGNEE_KINDS] }),
            queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            queryParameter('cursor', text, 'next_cursor of the previous page'),
          ],
          responses: {
            200: jsonResponse('One page', '#/components/schemas/TicketPage'),
            400: errorResponse('Bad parameters (named in errors)'),
          },
        },
      },
      '/v1/hotline/tickets/{id}': {
        get: {
          summary: 'One ticket with its notes and history',
          parameters: [ticketIdParameter],
          responses: { 200: jsonResponse('Found', '#/components/schemas/TicketDetail'), 404: errorResponse('Unknown ticket') },
        },
      },
      '/v1/hotline/tickets/{id}/claim': ticketAction('Claim a ticket (or renew your claim) for HOTLINE_CLAIM_MINUTES', '#/components/schemas/ClaimBody'),
      '/v1/hotline/tickets/{id}/release': ticketAction('Release your claim: the ticket returns to the queue', '#/components/schemas/ReleaseBody'),
      '/v1/hotline/tickets/{id}/assign': ticketAction('Hand the ticket to an agency, the justice bureau or discipline inspection (claim it first)', '#/components/schemas/AssignBody'),
      '/v1/hotline/tickets/{id}/categorise': ticketAction('File the ticket under another category', '#/components/schemas/CategoriseBody'),
      '/v1/hotline/tickets/{id}/notes': ticketAction('Add a note (anyone; the holder\'s note renews the claim)', '#/components/schemas/NoteBody'),
      '/v1/hotline/tickets/{id}/resolve': ticketAction('Resolve the ticket with an outcome (claim it first)', '#/components/schemas/ResolveTicketBody'),
      '/v1/hotline/tickets/{id}/reopen': ticketAction('Reopen a resolved ticket with a fresh resolve deadline (a note saying why is required)', '#/components/schemas/ReopenTicketBody'),
      '/v1/me': {
        get: {
          summary: 'Who the caller is: the token\'s holder (name, unit, shared), role, jurisdiction and permissions; every action is recorded under it',
          responses: { 200: { description: 'The caller', content: { 'application/json': { schema: { type: 'object', required: ['id', 'name', 'unit', 'shared', 'role', 'jurisdiction', 'enterprise_id', 'permissions'] } } } } },
        },
      },
      '/v1/audit': {
        get: {
          summary: "People's actions (alerts, silences, tickets, tokens), newest first, for admins",
          description: 'Refused actions (409) and the system\'s own changes are not entries; a caller limited to a jurisdiction only sees entries inside it.',
          parameters: [
            queryParameter('actor', text),
            queryParameter('action', { enum: [...AUDIT_ACTIONS] }),
            queryParameter('target_kind', { enum: [...AUDIT_TARGET_KINDS] }),
            queryParameter('target_id', text),
            queryParameter('region', text, 'Prefix of the division code: 37, 3714 or 371402'),
            queryParameter('from', text, 'at from (inclusive); RFC 3339 or YYYY-MM-DD (Asia/Shanghai)'),
            queryParameter('to', text, 'at before (exclusive); RFC 3339 or YYYY-MM-DD (Asia/Shanghai)'),
            queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            queryParameter('cursor', text, 'next_cursor of the previous page'),
          ],
          responses: {
            200: jsonResponse('One page', '#/components/schemas/AuditPage'),
            400: errorResponse('Bad parameters (named in errors)'),
          },
        },
      },
      '/v1/rules': {
        get: {
          summary: 'The rule set in force: digest, load time, each rule with its parameters and overrides, and the last failed reload',
          responses: { 200: { description: 'The rule set', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/v1/rules/{id}': {
        get: {
          summary: 'One rule as loaded, with its YAML text (schema: rules/schema.json)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'The rule', content: { 'application/json': { schema: { type: 'object' } } } }, 404: errorResponse('Unknown rule') },
        },
      },
      '/healthz': { get: { summary: 'The process is up', responses: { 200: { description: 'Up' } } } },
      '/readyz': { get: { summary: 'Redis and ClickHouse reachable, migrations applied', responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready; names the failing checks' } } } },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics of this process (text exposition format)',
          responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: {
        Event: schema(Event),
        Enterprise: schema(Enterprise),
        Agency: schema(Agency),
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
        AckBody: schema(AckBody),
        CreateSilenceBody: schema(CreateSilenceBody),
        ExpireSilenceBody: schema(ExpireSilenceBody),
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
        ResolveBody: schema(ResolveBody),
        ReopenBody: schema(ReopenBody),
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
        ClaimBody: schema(ClaimBody),
        ReleaseBody: schema(ReleaseBody),
        AssignBody: schema(AssignBody),
        CategoriseBody: schema(CategoriseBody),
        NoteBody: schema(NoteBody),
        ResolveTicketBody: schema(ResolveTicketBody),
        ReopenTicketBody: schema(ReopenTicketBody),
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
      },
    },
  };
}

export function openApiRoutes(limits: { maxItems: number; maxBytes: number }): Hono {
  const document = openApiDocument(limits);
  return new Hono().get('/openapi.json', (c) => c.json(document));
}
