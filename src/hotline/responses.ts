import { page, ref, shapes } from '../http/route.js';
import { ASSIGNEE_KINDS, PRIORITIES, SATISFACTIONS, SLA_KINDS, TICKET_ACTIONS, TICKET_OUTCOMES, TICKET_SOURCES, TICKET_STATES } from './model.js';

/** What the hotline routes answer, for the OpenAPI document. */
const { time, nullableTime, text, localized } = shapes;

// Hand-written because tickets are computed, not validated input; the enums come from the model.
const ticketProperties = {
  id: { type: 'string', description: 'sha256 of source and source_id: a repeated complaint or alert lands on the same ticket' },
  number: { type: 'string', description: "12345-YYYYMMDD-NNNN: the Shanghai day it was opened and that day's serial ('' before numbers were given)" },
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
  complainant: {
    type: ['object', 'null'],
    description: "The complaint's caller, for the 回访: on the ticket only (the event's public record never holds it)",
    required: ['name', 'phone'],
    properties: { name: text, phone: text },
  },
  callback: {
    type: ['object', 'null'],
    description: "回访: the caller's satisfaction, recorded before a complaint's ticket is resolved",
    required: ['at', 'by', 'satisfaction', 'note'],
    properties: { at: time, by: text, satisfaction: { enum: [...SATISFACTIONS] }, note: text },
  },
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

export const TICKET_ANSWERS = {
  Ticket: TicketSchema,
  TicketChange: TicketChangeSchema,
  TicketPage: page('Ticket'),
  TicketDetail: {
    allOf: [ref('Ticket'), {
      type: 'object',
      required: ['notes', 'history'],
      properties: {
        notes: {
          type: 'array',
          items: { type: 'object', required: ['at', 'actor', 'text'], properties: { at: time, actor: text, text } },
        },
        history: { type: 'array', items: ref('TicketChange') },
      },
    }],
  },
};
