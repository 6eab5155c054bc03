import { z } from 'zod';
import { ALERT_MODES, CHANNELS, SEVERITIES } from '../alerts/model.js';

/**
 * The rule language. One YAML file per rule; the JSON Schema published at
 * rules/schema.json is generated from these definitions (`qingjian rules
 * schema`), so an editor and the loader agree on every field.
 *
 * Any number can be a `$parameter` reference: the rule's `params` give the
 * defaults and the policy map (rules/regions.yaml) sets a region's own values.
 */
const ParamRef = z.string().regex(/^-?\$[a-z][a-z0-9_]*$/, 'must be a number or a $parameter reference (-$parameter negates it)');
const Num = z.union([z.number(), ParamRef]);
const NonNegative = z.union([z.number().min(0), ParamRef]);

const Name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');
export const Localized = z.object({
  zh: z.string().min(1, 'Chinese text is required'),
  en: z.string().min(1, 'English text is required'),
}).strict();

/** Event fields a condition may test. */
export const CONDITION_FIELDS = [
  'type', 'action', 'method', 'onsite', 'urgent_reason', 'category', 'channel', 'status', 'mode',
  'source', 'region', 'agency_id', 'outcome', 'plan_id', 'purpose', 'national_basis', 'reviewed_by',
  'filing_kind', 'filed_with', 'approved_by', 'remedies', 'credit_repair',
] as const;
export type ConditionField = (typeof CONDITION_FIELDS)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const Matcher = z.union([
  Scalar,
  z.array(Scalar).min(1),
  z.object({ in_list: Name.describe('a list from a shared file') }).strict(),
  z.object({ not: z.union([Scalar, z.array(Scalar).min(1)]) }).strict(),
  z.object({ exists: z.boolean() }).strict(),
]).describe('a value, any of several values, { in_list }, { not } or { exists } (an empty value does not exist)');

/**
 * Every listed field must match; `use` first applies a shared macro's conditions; `any_of` needs one of its
 * conditions to match as well (莆田: a result with an outcome other than a penalty, or a penalty with its remedies).
 */
export const Condition: z.ZodType<ConditionSpec> = z.object({
  use: z.union([Name, z.array(Name).min(1)]).optional().describe('macro(s) from a shared file'),
  get any_of() {
    return z.array(Condition).min(1).optional().describe('at least one of these conditions must match too');
  },
  ...Object.fromEntries(CONDITION_FIELDS.map((f) => [f, Matcher.optional()])),
}).strict() as unknown as z.ZodType<ConditionSpec>;
export type Matcher = z.infer<typeof Matcher>;
export type ConditionSpec = { use?: string | string[]; any_of?: ConditionSpec[] } & { [F in ConditionField]?: Matcher };

const UNITS = ['minutes', 'hours', 'days', 'working_days'] as const;
export type DurationUnit = (typeof UNITS)[number];

/**
 * How far a rule may look: a century of days, or 500 working days (about two years; the calendar walks
 * them one by one). Beyond, the engine's dates overflow (an evaluation that throws for every company)
 * or a working-day walk never ends (a reload or an evaluation that hangs the process).
 */
export const MAX_SPAN_DAYS = 36_600;
export const MAX_WORKING_DAYS = 500;
const within = (max: number, unit: string) => z.number()
  .min(-max, `must be at least -${max} ${unit}`).max(max, `must be at most ${max} ${unit}`);
const SPANS: Record<DurationUnit, z.ZodNumber> = {
  minutes: within(MAX_SPAN_DAYS * 1440, 'minutes'),
  hours: within(MAX_SPAN_DAYS * 24, 'hours'),
  days: within(MAX_SPAN_DAYS, 'days'),
  working_days: within(MAX_WORKING_DAYS, 'working days').int('must be a whole number of working days'),
};
/**
 * A signed offset with one unit. Minutes and hours move an instant; days and
 * working days move a Shanghai calendar date (inclusive of the whole day).
 */
export const Offset = z.object(Object.fromEntries(UNITS.map((u) => [u, z.union([SPANS[u], ParamRef]).optional()])) as Record<DurationUnit, z.ZodOptional<typeof Num>>)
  .strict()
  .refine((o) => Object.values(o).filter((v) => v !== undefined).length === 1, 'needs exactly one of minutes, hours, days, working_days');
export type Offset = { [U in DurationUnit]?: number | string };

const Bound = z.union([
  z.literal('unbounded'),
  Offset,
  z.array(Offset).min(2).describe('several offsets: the earliest of them as a `to` bound, the latest as a `from` bound'),
]);

export const CORRELATION_FIELDS = ['enterprise_id', 'agency_id', 'plan_id'] as const;
const Correlation = z.union([
  z.object({
    same: z.enum(CORRELATION_FIELDS),
    or_in: z.literal('joint_agency_ids').optional().describe('the trigger value may also appear in this list field'),
    if_set: z.boolean().optional().describe('only when the trigger has a value (a check-in naming its plan must find that plan)'),
  }).strict(),
  z.object({
    covers: z.tuple([z.literal('window_start'), z.literal('window_end')])
      .describe('the trigger date lies within these two date fields of the other event'),
  }).strict(),
  z.object({
    shares: z.literal('matters').describe('both events name matters (检查事项) and have at least one in common'),
  }).strict(),
]);

/** How another event must relate to the trigger for it to count as found. */
const Expectation = {
  expect: Condition,
  correlate: z.array(Correlation).default([]),
  within: z.object({
    from: Bound.describe('earliest time of the other event relative to the anchor'),
    to: Bound.describe('latest time of the other event relative to the anchor'),
  }).strict(),
};

const Wording = {
  severity: z.enum(SEVERITIES).optional(),
  title: Localized.optional(),
  message: Localized.optional(),
};

export const Variant = z.object({
  id: Name,
  ...Wording,
  expect: Condition.optional(),
  correlate: z.array(Correlation).optional(),
  within: Expectation.within.optional(),
}).strict().describe('a weaker match that still raises an alert, with its own severity and wording');

export const Exemption = z.object({
  id: Name,
  enabled: z.union([z.boolean(), ParamRef]).default(true).describe('a $parameter lets the policy map adopt the exemption per region'),
  lateness: Offset.optional().describe("how long to wait for a late filing past the requirement's span (default: the detection's)"),
  when: Condition.describe('trigger events this exemption may cover'),
  requires: z.object(Expectation).strict().optional().describe('a filing the exemption needs, e.g. within 3 working days'),
  otherwise: z.object({ variant: Name, ...Wording }).strict().optional()
    .describe('the alert raised when the required filing is missing'),
  record: z.object({ variant: Name, ...Wording }).strict().optional()
    .describe('an exempted trigger is still listed for review afterwards (mode record: stored, filterable, never pushed)'),
}).strict();

const Direct = z.object({
  variant: Name,
  match: Condition,
  ...Wording,
}).strict().describe('events that are themselves evidence of the breach (e.g. a complaint)');

const GroupBy = z.array(z.enum(['enterprise_id', 'agency_id'])).min(1)
  .refine((g) => g[0] === 'enterprise_id', 'must start with enterprise_id (rules are evaluated per company)')
  .refine((g) => new Set(g).size === g.length, 'must not repeat a field');

export const Counting = z.union([
  z.literal('events'),
  z.object({
    visits: z.object({
      gap_hours: NonNegative.describe("one agency's scans and on-site records closer than this belong to one visit"),
    }).strict().describe('visits: one agency on site on one occasion; agencies of one joint plan together count once'),
  }).strict(),
  z.object({ distinct: z.enum(['agency_id', 'officer_ids']) }).strict(),
]);

const PERIODS = ['week', 'month', 'year'] as const;
export type CalendarPeriod = (typeof PERIODS)[number];

const DayOfMonth = z.union([
  z.number().int().min(-31).max(31).refine((d) => d !== 0, 'day 0 does not exist'),
  z.string().regex(/^-?\d{1,2}\.\.-?\d{1,2}$/, 'must be a day or a range like -10..-1'),
]);
const DayList = z.union([z.array(DayOfMonth).min(1), ParamRef]);

const ENTERPRISE_ATTRIBUTES = ['credit_grade', 'whitelisted'] as const;
const lookup = <T extends z.ZodType>(value: T) => z.object({
  by: z.enum(ENTERPRISE_ATTRIBUTES),
  values: z.record(z.string(), value),
  default: value.optional().describe('for values not listed; without it such companies are not checked'),
}).strict();

const Exemptions = z.array(Exemption).default([]);

const ThresholdDetect = z.object({
  match: Condition,
  group_by: GroupBy,
  count: Counting,
  window: z.union([
    z.object({ sliding_days: z.union([z.number().positive('must be more than 0 days').max(MAX_SPAN_DAYS, `must be at most ${MAX_SPAN_DAYS} days`), ParamRef]) }).strict(),
    z.object({ calendar: z.enum(PERIODS) }).strict(),
  ]),
  at_least: NonNegative,
  also: z.array(z.object({
    id: Name,
    group_by: GroupBy,
    at_least: NonNegative,
    ...Wording,
  }).strict()).default([]).describe('further readings of the same clause: another grouping with its own threshold, raised as a variant'),
}).strict();

const AbsenceDetect = z.object({
  trigger: Condition,
  anchor: z.enum(['occurred_at', 'started_at']).default('occurred_at'),
  ...Expectation,
  lateness: Offset.optional().describe('how long to wait for late events before deciding'),
  variants: z.array(Variant).default([]),
  direct: z.array(Direct).default([]),
  every_officer: z.object({ id: Name, ...Wording }).strict().optional()
    .describe('when found, every officer named on the trigger must be on a matching event; otherwise this variant'),
  whitelisted_expect: Condition.optional()
    .describe('for a whitelisted company (白名单) the expected event must also match this (e.g. reviewed by the justice bureau)'),
  self_match: z.boolean().default(false)
    .describe('the trigger may be its own expected event (an inspection record that carries its own result)'),
}).strict();

const PresenceDetect = z.object({
  trigger: Condition,
  anchor: z.enum(['occurred_at', 'started_at']).default('occurred_at'),
  ...Expectation,
  lateness: Offset.optional().describe('how long to wait for late events before deciding'),
}).strict();

const ScoreDetect = z.object({
  match: Condition.describe('the events that carry a score (evaluations)'),
  at_most: NonNegative.describe("a score at or below this is an alert (the region's threshold)"),
  levels: z.union([
    z.array(z.string().regex(/^\d+(\.\d+)?:.+$/, 'must be "lowest score:name", e.g. "90:十分满意"')).min(1),
    ParamRef,
  ]).describe('the names of the scale, each from its lowest score: ["90:十分满意", "80:满意", "60:基本满意", "0:不满意"]'),
}).strict();

const DurationDetect = z.object({
  entry: Condition.describe('scans that start a visit'),
  exit: Condition.describe("scans that end it: the same agency's officers scanning out"),
  exit_within_hours: NonNegative.describe('an exit further from the first entry than this ends no visit (its end is unknown)'),
  record: Condition.describe('records measured from started_at to ended_at where no scans measured the visit'),
  at_least_minutes: NonNegative.describe('a visit shorter than this raises too_short'),
  at_most_minutes: NonNegative.describe('a visit longer than this raises too_long'),
  too_short: z.object(Wording).strict().optional().describe('the wording of the too_short alert'),
  too_long: z.object(Wording).strict().optional().describe('the wording of the too_long alert'),
}).strict();

/** Dates of a company's reference data a calendar period can start from. */
export const COMPANY_DATES = ['deregistered_on'] as const;

const CalendarDetect = z.object({
  match: Condition,
  period: z.union([
    z.object({
      days_of_month: z.union([DayList, lookup(DayList)]),
      company_override: z.boolean().default(true).describe("a company's own quiet_period replaces the default"),
      days: z.enum(['any', 'working', 'non_working']).default('any'),
    }).strict(),
    z.object({
      since: z.enum(COMPANY_DATES)
        .describe("a date of the company's reference data: that day and every later one are in the period (none while the company has no such date)"),
    }).strict(),
  ]),
}).strict();

const TogetherDetect = z.object({
  plan: Condition.describe('the plans whose agency and joint_agency_ids must arrive together'),
  arrival: z.array(Condition).min(1)
    .describe("what an agency's arrival is, in order of preference: the first condition any of its events meets gives the arrival (the earliest such event)"),
  within: Offset.describe('how long after the first agency every other one must have arrived'),
  lateness: Offset.optional().describe('how long to wait for late events before deciding that an agency did not come'),
}).strict();

const ExecutionDetect = z.object({
  plan: Condition.describe('the plans that must be carried out (a visit linked to the plan: see README)'),
  grace: Offset.describe("how long after the plan's window closes the visit may still be missing before the notice, e.g. { working_days: 1 }"),
  lateness: Offset.optional().describe('how long to wait for late events past the grace'),
}).strict();

const CapDetect = z.object({
  match: Condition,
  group_by: GroupBy,
  period: z.enum(PERIODS),
  count: Counting,
  limit: lookup(z.union([NonNegative, z.null()])),
  not_counted: Condition.optional().describe('a unit with any event matching this is left out of the count (e.g. 国家另有规定), and the alert says how many'),
}).strict();

const OverlapDetect = z.object({
  match: Condition.describe('the plans that count, each as it stands now (latest version; cancelled or merged plans are withdrawn)'),
}).strict().describe('two matching plans of one company whose date windows share a day and that are not one plan');

const ParamValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.union([z.number(), z.string()]))]);

const RuleBase = {
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be kebab-case'),
  version: z.number().int().min(1),
  title: Localized,
  message: Localized.describe('templates: {{name}} takes a parameter, a figure or a field of the alert'),
  severity: z.enum(SEVERITIES),
  mode: z.enum(ALERT_MODES).describe('shadow evaluates and stores but notifies nobody'),
  channels: z.union([z.array(z.enum(CHANNELS)), ParamRef], { error: `must be a list of ${CHANNELS.join(', ')}, or a $parameter holding one` }).default([])
    .describe('a list, or a $parameter so that the policy map routes the rule per region'),
  escalate_after_minutes: z.number().positive().max(7 * 24 * 60).optional()
    .describe('an open alert nobody acknowledges within this many minutes is re-sent one priority level up (up to 3 times)'),
  inhibits: z.object({
    equal: z.array(z.enum(['enterprise_id', 'agency_id', 'region'])).min(1).describe('fields the inhibited alert must share'),
    period: z.enum(['year', 'month', 'day']).optional().describe('the inhibited alert must be anchored in the same Shanghai calendar period'),
  }).strict().optional()
    .describe('while an alert of this rule is open, alerts of other rules with lower severity sharing these fields are stored but not pushed'),
  source: z.object({
    document: z.string().min(1).describe('file name in policy-sources'),
    clause: z.string().min(1).describe('the sentence or clause encoded'),
  }).strict(),
  description: Localized.optional(),
  params: z.record(Name, ParamValue).default({}),
};

export const Rule = z.discriminatedUnion('kind', [
  z.object({ ...RuleBase, kind: z.literal('threshold'), detect: ThresholdDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('absence'), detect: AbsenceDetect, exemptions: Exemptions }).strict(),
  z.object({ ...RuleBase, kind: z.literal('calendar'), detect: CalendarDetect, exemptions: Exemptions }).strict(),
  z.object({ ...RuleBase, kind: z.literal('cap'), detect: CapDetect, exemptions: Exemptions }).strict(),
  z.object({ ...RuleBase, kind: z.literal('presence'), detect: PresenceDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('score'), detect: ScoreDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('duration'), detect: DurationDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('together'), detect: TogetherDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('execution'), detect: ExecutionDetect }).strict(),
  z.object({ ...RuleBase, kind: z.literal('overlap'), detect: OverlapDetect }).strict(),
]);
export type RuleSpec = z.infer<typeof Rule>;
export type RuleKind = RuleSpec['kind'];

/** Shared lists and macros (rules/lib/*.yaml). */
export const Library = z.object({
  lists: z.record(Name, z.array(Scalar).min(1)).default({}),
  macros: z.record(Name, Condition).default({}),
}).strict();
export type Library = z.infer<typeof Library>;

export function ruleJsonSchema(): object {
  return {
    $id: 'https://qingjian.example/rules/schema.json',
    title: 'Qingjian rule file',
    ...z.toJSONSchema(Rule, { io: 'input', unrepresentable: 'any' }),
  };
}

export function libraryJsonSchema(): object {
  return { title: 'Qingjian shared lists and macros', ...z.toJSONSchema(Library, { io: 'input', unrepresentable: 'any' }) };
}
