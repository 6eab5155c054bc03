import { z } from 'zod';
import { calendarDate } from '../calendar/shanghai-time.js';
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

/**
 * The characters an identifier may use. Ids reach SQL as Grafana's `:sqlstring` writes them, which doubles
 * quotes but leaves backslashes for ClickHouse to read as escapes; in a charset without quotes, backslashes,
 * spaces or `$`, no id can end a literal, change a board query or expand as a template variable.
 */
export const IDENTIFIER_CHARSET = /^[A-Za-z0-9._:-]*$/;

const identifier = (what: string) =>
  z.string().min(1, `${what} must not be empty`).max(64, `${what} must be at most 64 characters`)
    .regex(IDENTIFIER_CHARSET, `${what} must use only letters A-Z a-z, digits and . _ : -`);

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
export const OfficerId = identifier('officer_id');
const OfficerIds = z.array(identifier('officer id')).min(1, 'needs at least one officer').max(50);
// Only what storage holds as written: ClickHouse refuses a time before year 1 (the whole insert fails, for
// ever) and silently clamps a Date outside 1970-01-01…2149-06-06, so such values are refused here instead.
const EARLIEST_TIME = Date.parse('1900-01-01T00:00:00Z');
const LATEST_TIME = Date.parse('2200-01-01T00:00:00Z');
const Timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:30:00+08:00' })
  .refine((t) => { const ms = Date.parse(t); return Number.isNaN(ms) || (ms >= EARLIEST_TIME && ms < LATEST_TIME); }, 'must be between 1900-01-01 and 2199-12-31');
export const CalendarDate = z.iso.date({ message: 'must be a date YYYY-MM-DD' })
  .refine((d) => !/^\d{4}-/.test(d) || (d >= '1970-01-01' && d <= '2149-06-06'), 'must be between 1970-01-01 and 2149-06-06');
const Text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

/**
 * Why a check could not wait. Together they are 云和's nine special cases ("除外") of the quiet period:
 * life_property 生命财产安全, public_interest 重大公共利益, public_safety 重大公共安全,
 * social_impact 重大社会影响, emergency 突发事件, complaint 投诉举报, case 案件查处,
 * superior 上级安排部署, serious_dishonesty 严重失信主体.
 */
export const URGENT_REASONS = [
  'emergency', 'complaint', 'case', 'superior', 'public_safety', 'serious_dishonesty',
  'life_property', 'public_interest', 'social_impact',
] as const;
/** Why an agency is at a company: 行政检查, 调研, 行政指导服务, 领导干部入企公务. */
export const PURPOSES = ['inspection', 'research', 'guidance', 'leader_visit'] as const;
/** What a filing (备案/报备) is for; see FilingEvent. */
export const FILING_KINDS = ['quiet_period_check', 'research', 'leader_visit'] as const;
/** Where a filing goes: 县综合执法办, or 县委办公室、县政府办公室. */
export const FILING_OFFICES = ['county_enforcement_office', 'county_party_government_offices'] as const;
export const COMPLAINT_CATEGORIES = ['no_scan', 'frequent', 'no_plan', 'quiet_period', 'misconduct', 'other'] as const;
export const OUTCOMES = ['no_issue', 'rectification_ordered', 'penalty', 'case_opened', 'other'] as const;
/** How a company was told of a visit ahead (预告): SMS, the platform's app, a call, a letter, in person. */
export const NOTICE_CHANNELS = ['sms', 'app', 'phone', 'letter', 'in_person'] as const;
/** How a company rated a visit: 德州's SMS after the visit, the platform's app or site, the 12345 line. */
export const EVALUATION_CHANNELS = ['sms', 'app', 'web', '12345'] as const;

const common = {
  id: EventId,
  occurred_at: Timestamp.describe('When it happened (event time), RFC 3339 with offset'),
  region: Region,
  source: identifier('source').describe('The sending platform or app, e.g. dezhou-app'),
};

const UrgentReason = z.enum(URGENT_REASONS);
const Purpose = z.enum(PURPOSES).default('inspection')
  .describe('inspection 行政检查 | research 调研 | guidance 行政指导服务 | leader_visit 领导干部入企公务');
const NationalBasis = Text(200)
  .describe('国家另有规定: the national law or regulation that requires this on-site visit; the annual cap does not count it');

const Matters = z.array(Text(200)).max(50).describe('检查事项: the inspection matters, as listed in the agency\'s 检查事项清单');

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
  purpose: Purpose,
  plan_id: identifier('plan_id').optional(),
  urgent_reason: UrgentReason.optional(),
  national_basis: NationalBasis.optional(),
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
  purpose: Purpose,
  plan_id: identifier('plan_id').optional(),
  urgent_reason: UrgentReason.optional(),
  national_basis: NationalBasis.optional(),
  outcome: z.enum(OUTCOMES).optional(),
  matters: Matters.optional(),
  remedies: Text(2000).optional()
    .describe('救济途径: how the company may seek redress (莆田: "涉及行政处罚的,还应上传救济途径、信用修复流程等")'),
  credit_repair: Text(2000).optional()
    .describe('信用修复流程: how the company repairs its credit after a penalty (莆田, as for remedies)'),
}).strict().refine((e) => !e.ended_at || Date.parse(e.ended_at) >= Date.parse(e.started_at), {
  message: 'must not be before started_at', path: ['ended_at'],
}).describe('The enforcement record an agency files after an inspection');

export const PlanEvent = z.object({
  ...common,
  type: z.literal('plan'),
  plan_id: identifier('plan_id').optional()
    .describe("The plan's stable identity (default: the event id). A later plan event with the same plan_id supersedes this one; status cancelled withdraws it"),
  agency_id: AgencyId,
  enterprise_ids: z.array(EnterpriseId).min(1, 'needs at least one company').max(1000),
  window_start: CalendarDate,
  window_end: CalendarDate,
  mode: z.enum(['onsite', 'offsite']),
  joint_agency_ids: z.array(AgencyId).max(20).optional(),
  matters: z.array(Text(200)).max(50).optional(),
  status: z.enum(['filed', 'approved', 'cancelled']),
  reviewed_by: z.enum(['justice_bureau']).optional()
    .describe('Reviewed and approved by the justice bureau at the same level (烟台 白名单 pilot: "各行政执法单位将检查计划报同级司法局进行审核,审核通过后纳入平台再进行检查")'),
  urgent_reason: UrgentReason.optional()
    .describe('A green-channel entry (烟台 绿色通道 "即时录入、即时检查"): a plan entered at the time of an urgent check'),
  replaces: z.array(identifier('replaces plan_id')).min(1, 'must name at least one plan').max(50).optional()
    .describe('A joint plan that merges these plans (合并检查, 云和 "能合并的合并,能联合的联合"): each plan_id named here is withdrawn from this filing on, as if cancelled'),
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
  complainant: z.object({
    name: z.string().trim().min(1).max(64).optional(),
    phone: z.string().regex(/^\+?[0-9][0-9 -]{4,30}$/, 'must be a phone number: digits, spaces or dashes, e.g. 13800138000'),
  }).strict().optional()
    .describe("Who called, for the 回访 (callback): kept on the 12345 ticket only, shown to the hotline's staff; never stored with the event"),
}).strict().describe('A company complaint, e.g. through the 12345 hotline');

export const FilingEvent = z.object({
  ...common,
  type: z.literal('filing'),
  agency_id: AgencyId,
  enterprise_id: EnterpriseId,
  kind: z.enum(FILING_KINDS).describe(
    'quiet_period_check: an ordinary inspection in the quiet period ("报请本单位主要负责人批准并于3个工作日内向县综合执法办备案"); '
    + 'research: 调研 ("提前三个工作日向县委办公室、县政府办公室备案"); leader_visit: 领导干部入企公务 ("提前三个工作日向县委办公室、县政府办公室报备")'),
  filed_with: z.enum(FILING_OFFICES).describe('county_enforcement_office 县综合执法办 | county_party_government_offices 县委办公室、县政府办公室'),
  visit_date: CalendarDate.describe('The day of the visit the filing is for'),
  approved_by: identifier('approved_by').optional()
    .describe('The head of unit who approved (本单位主要负责人); required for quiet_period_check'),
  plan_id: identifier('plan_id').optional(),
  note: Text(500).optional(),
}).strict().refine((e) => e.kind !== 'quiet_period_check' || e.approved_by !== undefined, {
  message: 'is required when kind is quiet_period_check (报请本单位主要负责人批准)', path: ['approved_by'],
}).describe('A filing (备案/报备) of a visit with the county; occurred_at is the filing time');

export const NoticeEvent = z.object({
  ...common,
  type: z.literal('notice'),
  enterprise_id: EnterpriseId,
  agency_id: AgencyId,
  officer_ids: OfficerIds.describe('检查人员: the officers who will come'),
  matters: z.array(Text(200)).min(1, 'needs at least one matter (检查事项)').max(50).describe('检查事项: what will be inspected'),
  visit_date: CalendarDate.describe('检查时间: the day of the visit'),
  plan_id: identifier('plan_id').optional(),
  channel: z.enum(NOTICE_CHANNELS).optional().describe('sms | app | phone | letter | in_person'),
}).strict().describe(
  'Notice of a visit to the company (预告; 云和: "应将涉及的行政检查事项、检查时间、检查人员等内容向企业进行“预告”"); occurred_at is when the company was told');

export const EvaluationEvent = z.object({
  ...common,
  type: z.literal('evaluation'),
  enterprise_id: EnterpriseId,
  agency_id: AgencyId.describe('The agency whose visit is rated'),
  score: z.number().int('must be a whole number of points').min(0, 'must be at least 0').max(100, 'must be at most 100')
    .describe('The company\'s score for the visit, 0 to 100 (德州: "他打了95分,属“十分满意”"); the region\'s rule names the levels and the threshold'),
  comment: Text(2000).optional(),
  channel: z.enum(EVALUATION_CHANNELS).describe('sms | app | web | 12345'),
  visit_event_id: identifier('visit_event_id').optional().describe('The check-in or inspection record of the visit rated'),
}).strict().describe("A company's rating of one visit (企业评价); occurred_at is when it rated");

export const EVENT_TYPES = ['checkin', 'inspection', 'plan', 'complaint', 'filing', 'notice', 'evaluation'] as const;
export const Event = z.discriminatedUnion('type', [CheckinEvent, InspectionEvent, PlanEvent, ComplaintEvent, FilingEvent, NoticeEvent, EvaluationEvent]);
export type Event = z.infer<typeof Event>;
export type EventInput = z.input<typeof Event>;

/** A company's standing in the business register: 存续 (active) or 已注销 (deregistered). */
export const ENTERPRISE_STATUSES = ['active', 'deregistered'] as const;

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
  // Grade A 免检 follows from credit_grade; there is no separate exemption flag.
  whitelisted: z.boolean().default(false)
    .describe('烟台 白名单 (莱州 pilot): only plans reviewed by the justice bureau count for this company'),
  quiet_period: QuietPeriod.optional(),
  status: z.enum(ENTERPRISE_STATUSES).optional()
    .describe('active (the default when not sent), or deregistered (已注销): a check of a deregistered company is a low-quality check (海曙)'),
  deregistered_on: CalendarDate.optional()
    .describe('The day the company was deregistered (Asia/Shanghai date); required with status deregistered, refused with active'),
}).strict().superRefine((e, ctx) => {
  if (e.status === 'deregistered' && e.deregistered_on === undefined) {
    ctx.addIssue({ code: 'custom', path: ['deregistered_on'], message: 'is required when status is deregistered (注销日期)' });
  }
  if (e.status !== 'deregistered' && e.deregistered_on !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['deregistered_on'], message: 'must not be sent when status is active (or not sent)' });
  }
  // A date checked against today in Shanghai, where the registry dates it; a format error is reported by the field itself.
  if (e.deregistered_on !== undefined && e.deregistered_on > calendarDate(Date.now())) {
    ctx.addIssue({ code: 'custom', path: ['deregistered_on'], message: `must not lie in the future (today is ${calendarDate(Date.now())} in Asia/Shanghai)` });
  }
});
export type Enterprise = z.infer<typeof Enterprise>;

export const Agency = z.object({
  agency_id: AgencyId,
  name: z.string().min(1).max(200),
  region: Region,
  kind: identifier('kind').describe('e.g. market_regulation, emergency, ecology, fire, agriculture'),
}).strict();
export type Agency = z.infer<typeof Agency>;

/**
 * An officer's name on reference data: events name officers by id only (officer_ids), and people read names.
 * An officer belongs to an agency that reference data holds; that agency's region is the officer's.
 */
export const Officer = z.object({
  officer_id: OfficerId.describe("The id events name in officer_ids (e.g. the 执法证号)"),
  name: z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters'),
  agency_id: AgencyId.describe('The agency the officer serves; PUT /v1/agencies first'),
}).strict();
export type Officer = z.infer<typeof Officer>;
