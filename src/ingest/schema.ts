import { z } from 'zod';
import { creditCodeProblem } from './credit-code.js';

/**
 * The wire contract for events and reference data (snake_case JSON).
 * The OpenAPI document is generated from these schemas, so the docs cannot drift.
 */

// First two digits of every province-level division (GB/T 2260).
const PROVINCES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82',
]);

const identifier = (what: string) =>
  z.string().min(1, `${what} must not be empty`).max(64, `${what} must be at most 64 characters`)
    .regex(/^[\x21-\x7e]*$/, `${what} must be printable ASCII without spaces`);

export const EventId = identifier('id').describe('Client-chosen idempotency key, unique per event');
export const Region = z.string()
  .regex(/^\d{6}$/, 'must be a 6-digit administrative division code')
  .refine((r) => PROVINCES.has(r.slice(0, 2)), 'is not in a known province (GB/T 2260)')
  .describe('6-digit administrative division code, e.g. 371400 (德州)');
export const EnterpriseId = z.string().superRefine((code, ctx) => {
  const problem = creditCodeProblem(code);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}).describe('18-character unified social credit code (GB 32100-2015)');
export const AgencyId = identifier('agency_id');
const OfficerIds = z.array(identifier('officer id')).min(1, 'needs at least one officer').max(50);
// Only what storage holds as written: ClickHouse refuses a time before year 1 (the whole insert fails, for
// ever) and silently clamps a Date outside 1970-01-01…2149-06-06, so such values are refused here instead.
const EARLIEST_TIME = Date.parse('1900-01-01T00:00:00Z');
const LATEST_TIME = Date.parse('2200-01-01T00:00:00Z');
const Timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:30:00+08:00' })
  .refine((t) => { const ms = Date.parse(t); return Number.isNaN(ms) || (ms >= EARLIEST_TIME && ms < LATEST_TIME); }, 'must be between 1900-01-01 and 2199-12-31');
const CalendarDate = z.iso.date({ message: 'must be a date YYYY-MM-DD' })
  .refine((d) => !/^\d{4}-/.test(d) || (d >= '1970-01-01' && d <= '2149-06-06'), 'must be between 1970-01-01 and 2149-06-06');
const Text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const URGENT_REASONS = ['emergency', 'complaint', 'case', 'superior', 'public_safety', 'serious_dishonesty'] as const;
export const COMPLAINT_CATEGORIES = ['no_scan', 'frequent', 'no_plan', 'quiet_period', 'misconduct', 'other'] as const;
export const OUTCOMES = ['no_issue', 'rectification_ordered', 'penalty', 'case_opened', 'other'] as const;

const common = {
  id: EventId,
  occurred_at: Timestamp.describe('When it happened (event time), RFC 3339 with offset'),
  region: Region,
  source: identifier('source').describe('The sending platform or app, e.g. dezhou-app'),
};

const Location = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  address: Text(200).optional(),
}).strict();

export const CheckinEvent = z.object({
  ...common,
  type: z.literal('checkin'),
  enterprise_id: EnterpriseId,
  agency_id: AgencyId,
  officer_ids: OfficerIds,
  action: z.enum(['enter', 'exit']),
  method: z.enum(['qr', 'manual']),
  onsite: z.boolean().default(true),
  plan_id: identifier('plan_id').optional(),
  urgent_reason: z.enum(URGENT_REASONS).optional(),
  location: Location.optional(),
}).strict().describe('A QR scan (亮码/扫码入企) at the company gate');

export const InspectionEvent = z.object({
  ...common,
  type: z.literal('inspection'),
  enterprise_id: EnterpriseId,
  agency_id: AgencyId,
  officer_ids: OfficerIds,
  started_at: Timestamp,
  ended_at: Timestamp.optional(),
  onsite: z.boolean().default(true),
  plan_id: identifier('plan_id').optional(),
  outcome: z.enum(OUTCOMES).optional(),
}).strict().refine((e) => !e.ended_at || Date.parse(e.ended_at) >= Date.parse(e.started_at), {
  message: 'must not be before started_at', path: ['ended_at'],
}).describe('The enforcement record an agency files after an inspection');

export const PlanEvent = z.object({
  ...common,
  type: z.literal('plan'),
  agency_id: AgencyId,
  enterprise_ids: z.array(EnterpriseId).min(1, 'needs at least one company').max(1000),
  window_start: CalendarDate,
  window_end: CalendarDate,
  mode: z.enum(['onsite', 'offsite']),
  joint_agency_ids: z.array(AgencyId).max(20).optional(),
  matters: z.array(Text(200)).max(50).optional(),
  status: z.enum(['filed', 'approved', 'cancelled']),
}).strict().refine((e) => e.window_end >= e.window_start, {
  message: 'must not be before window_start', path: ['window_end'],
}).describe('An inspection plan filed ahead (计划报备); occurred_at is the filing time');

export const ComplaintEvent = z.object({
  ...common,
  type: z.literal('complaint'),
  enterprise_id: EnterpriseId,
  agency_id: AgencyId.optional(),
  category: z.enum(COMPLAINT_CATEGORIES),
  channel: z.enum(['12345', 'app', 'web', 'phone']),
  text: Text(4000),
  checkin_id: identifier('checkin_id').optional(),
}).strict().describe('A company complaint, e.g. through the 12345 hotline');

export const EVENT_TYPES = ['checkin', 'inspection', 'plan', 'complaint'] as const;
export const Event = z.discriminatedUnion('type', [CheckinEvent, InspectionEvent, PlanEvent, ComplaintEvent]);
export type Event = z.infer<typeof Event>;
export type EventInput = z.input<typeof Event>;

export const QuietPeriod = z.object({
  days_of_month: z.array(z.number().int().min(-31).max(31).refine((d) => d !== 0, 'day 0 does not exist'))
    .min(1).max(31)
    .describe('Days of the month; negative numbers count from the end (-1 is the last day)'),
}).strict().describe("Overrides the region's quiet period (企业安静期) for this company");

export const Enterprise = z.object({
  enterprise_id: EnterpriseId,
  name: z.string().min(1).max(200),
  region: Region,
  credit_grade: z.enum(['A', 'B', 'C', 'D']),
  exempt: z.boolean().default(false).describe('On the inspection-exempt list (免检清单)'),
  quiet_period: QuietPeriod.optional(),
}).strict();
export type Enterprise = z.infer<typeof Enterprise>;

export const Agency = z.object({
  agency_id: AgencyId,
  name: z.string().min(1).max(200),
  region: Region,
  kind: identifier('kind').describe('e.g. market_regulation, emergency, ecology, fire, agriculture'),
}).strict();
export type Agency = z.infer<typeof Agency>;
