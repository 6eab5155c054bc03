import { page, ref, shapes } from '../http/route.js';
import { ALERT_ACTIONS, ALERT_MODES, ALERT_STATUSES, CHANNELS, CLEARED, RESOLUTION_CODES, SEVERITIES } from './model.js';

/** What the alert and silence routes answer, for the OpenAPI document. */
const { time, text, strings, localized } = shapes;

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

export const ALERT_ANSWERS = {
  Alert: AlertSchema,
  AlertChange: AlertChangeSchema,
  AlertPage: page('Alert'),
  AlertDetail: {
    allOf: [ref('Alert'), {
      type: 'object',
      required: ['evidence_events', 'history'],
      properties: {
        evidence_events: {
          type: 'array',
          description: 'The stored events behind the alert, in evidence order; events not stored yet are left out',
          items: { type: 'object', required: ['role', 'event'], properties: { role: text, event: ref('Event') } },
        },
        history: { type: 'array', items: ref('AlertChange') },
      },
    }],
  },
};

export const SILENCE_ANSWERS = {
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
};
