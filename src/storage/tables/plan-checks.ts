import { z } from 'zod';
import {
  CHECKS, SUGGESTIONS, VERDICTS,
  type MergeCandidate, type PlanCheck, type PlanFinding, type PlanUnderCheck, type Suggestion,
} from '../../plans/model.js';
import { toClickHouseTime, type Storage } from '../port.js';
import { column, columnsOf, namedQuery } from './query.js';

/**
 * `plan_checks` (migration 10): the check of each filed plan version, one row per plan and company it names
 * (src/plans). Re-checking folds on (plan_id, enterprise_id) and the latest check wins
 * (ReplacingMergeTree(checked_at), read with FINAL). What the check found for the company is JSON: `findings`
 * holds the company's name, findings and merge candidates with the plan's agency and matters, `suggestions` the
 * suggestions (合并/线上/变更/取消).
 */
const Localized = z.object({ zh: z.string(), en: z.string() });

const Finding = z.object({
  check: z.enum(CHECKS),
  rule_id: z.string(),
  source: z.object({ document: z.string(), clause: z.string() }),
  level: z.enum(VERDICTS),
  message: Localized,
  figures: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
}) satisfies z.ZodType<PlanFinding>;

const AgencyLevel = z.enum(['province', 'city', 'county']).nullable();

const Candidate = z.object({
  plan_id: z.string(),
  agency_id: z.string(),
  agency_name: z.string(),
  level: AgencyLevel,
  joint_agency_ids: z.array(z.string()),
  same_agency: z.boolean(),
  matters: z.array(z.string()),
  /** Checks stored before a candidate named its version read ''. */
  event_id: z.string().default(''),
  window_start: z.string(),
  window_end: z.string(),
  overlap_days: z.number(),
  status: z.string(),
}) satisfies z.ZodType<MergeCandidate>;

const StoredSuggestion = z.object({
  action: z.enum(SUGGESTIONS),
  label: z.string(),
  reason: Localized,
  plan_ids: z.array(z.string()).optional(),
  window: z.object({ start: z.string(), end: z.string() }).optional(),
}) satisfies z.ZodType<Suggestion>;

/** Checks stored before the console showed the plan's agency and matters read '', null and []. */
const CompanyFindings = z.object({
  name: z.string(),
  agency_name: z.string().default(''),
  agency_level: AgencyLevel.default(null),
  matters: z.array(z.string()).default([]),
  findings: z.array(Finding),
  merge_candidates: z.array(Candidate),
});

export const PlanCheckRow = z.object({
  plan_id: z.string(),
  enterprise_id: z.string(),
  /** The plan version (its event id) checked. */
  event_id: z.string(),
  region: z.string(),
  agency_id: z.string(),
  window_start: column.date,
  window_end: column.date,
  /** The plan's status when checked; 'cancelled' and 'merged' plans are not upcoming. */
  status: z.string(),
  verdict: z.enum(VERDICTS),
  findings: column.json(CompanyFindings),
  suggestions: column.json(z.array(StoredSuggestion)),
  checked_at: column.time,
});
export type PlanCheckRow = z.output<typeof PlanCheckRow>;
export type PlanCheckInsert = z.input<typeof PlanCheckRow>;

/** A filed plan version's check as rows, one per company (a draft's check has no plan to be stored under). */
export function planCheckRows(check: PlanCheck, plan: PlanUnderCheck & { event_id: string }): PlanCheckInsert[] {
  const { plan_id, agency_name, agency_level, matters } = check;
  if (!plan_id) throw new Error('only a filed plan\'s check is stored');
  return check.companies.map((c) => ({
    plan_id, enterprise_id: c.enterprise_id, event_id: plan.event_id, region: c.region, agency_id: plan.agency_id,
    window_start: plan.window_start, window_end: plan.window_end, status: plan.status, verdict: c.verdict,
    findings: JSON.stringify({ name: c.name, agency_name, agency_level, matters, findings: c.findings, merge_candidates: c.merge_candidates }),
    suggestions: JSON.stringify(c.suggestions), checked_at: toClickHouseTime(new Date(check.checked_at)),
  }));
}

export const insertPlanChecks = (storage: Storage, rows: readonly PlanCheckInsert[]) => storage.insert('plan_checks', rows);

/** Plans still to come (window not over by `today`) in a region, by company; cancelled and merged plans left out. */
export const upcomingPlanChecks = namedQuery({
  name: 'plan_checks.upcoming',
  row: PlanCheckRow,
  statement: (values: { today: string; prefix: string; limit: number }) => ({
    sql: `SELECT ${columnsOf(PlanCheckRow)} FROM plan_checks FINAL
          WHERE window_end >= {today:Date} AND startsWith(region, {prefix:String}) AND status NOT IN ('cancelled', 'merged')
          ORDER BY enterprise_id, window_start, plan_id LIMIT {limit:UInt32}`,
    values,
  }),
});

/** The stored check of a plan, by company. */
export const planChecksOfPlan = namedQuery({
  name: 'plan_checks.ofPlan',
  row: PlanCheckRow,
  statement: (values: { plan: string }) => ({
    sql: `SELECT ${columnsOf(PlanCheckRow)} FROM plan_checks FINAL WHERE plan_id = {plan:String} ORDER BY enterprise_id`, values,
  }),
});
