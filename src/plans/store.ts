import { createHash } from 'node:crypto';
import { DAY, midnight } from '../calendar/index.js';
import { EVENT_COLUMNS, fromStoredRow } from '../rules/events.js';
import { readCompanies, readEvents } from '../rules/context.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';
import type { CheckInput } from './check.js';
import type { CompanyCheck, PlanCheck, PlanUnderCheck, SuggestionBody, Verdict } from './model.js';

/**
 * What the plan check reads (companies, their visits and plans around the
 * window, agencies, matters) and what Qingjian keeps of it: the check of every
 * filed plan (`plan_checks`) and the coordinating office's suggestions
 * (`plan_suggestions`), both migration 10.
 */

/** Plans are filed at most this long ahead of their window (as the engine reads them). */
const PLAN_LOOKBACK = 400 * DAY;
/** Visits this long around the window: the frequency rules' windows (15 days) fit with room. */
const VISITS_AROUND = 31 * DAY;

type Row = Parameters<typeof fromStoredRow>[0] & { payload?: string };

/**
 * The latest version of a filed plan, or null when no plan has this id. With `within`, only as seen from these
 * companies (a key range each, instead of every plan): its check then covers them alone.
 */
export async function readPlan(storage: Storage, planId: string, within?: readonly string[]): Promise<(PlanUnderCheck & { event_id: string }) | null> {
  const companies = within ? 'AND enterprise_id IN {companies:Array(String)}' : '';
  const params = { plan: planId, companies: within ?? [] };
  const rows = await storage.query<Row>(
    `SELECT ${EVENT_COLUMNS.join(', ')}, payload FROM events FINAL
     WHERE type = 'plan' AND plan_id = {plan:String} ${companies} ORDER BY occurred_at, id`, params);
  if (rows.length === 0) return null;
  // A standing joint plan that names this one in `replaces` has merged it away.
  const [merged] = await storage.query<{ n: string | number }>(
    `SELECT count() AS n FROM events FINAL WHERE type = 'plan' AND status != 'cancelled' AND has(replaces, {plan:String}) ${companies}`, params);
  const versions = rows.map((r) => ({ event: fromStoredRow(r), payload: r.payload ?? '{}' }));
  const latest = versions.at(-1)!;
  const payload = JSON.parse(latest.payload) as { matters?: string[]; joint_agency_ids?: string[]; replaces?: string[] };
  const e = latest.event;
  return {
    event_id: e.id,
    plan_id: planId,
    region: e.region,
    agency_id: e.agency_id,
    enterprise_ids: [...new Set(versions.filter((v) => v.event.id === e.id).map((v) => v.event.enterprise_id))],
    window_start: e.window_start!,
    window_end: e.window_end!,
    mode: e.mode as 'onsite' | 'offsite',
    joint_agency_ids: e.joint_agency_ids,
    matters: payload.matters ?? [],
    reviewed_by: e.reviewed_by,
    replaces: e.replaces,
    filed_at: versions[0]!.event.occurred_at,
    status: Number(merged?.n ?? 0) > 0 ? 'merged' : e.status,
  };
}

/** Everything `checkPlan` needs besides the plan and the rules. */
export async function readCheckContext(storage: Storage, plan: PlanUnderCheck, now: number): Promise<Omit<CheckInput, 'plan' | 'rules' | 'policy'>> {
  const ids = [...new Set(plan.enterprise_ids)];
  const start = midnight(plan.window_start);
  const end = midnight(plan.window_end) + DAY - 1;
  const yearStart = midnight(`${plan.window_start.slice(0, 4)}-01-01`);
  const visits = { from: Math.min(yearStart, start - VISITS_AROUND), to: end + VISITS_AROUND };
  const [companies, events] = await Promise.all([
    readCompanies(storage, ids),
    readEvents(storage, ids, new Map([['checkin', visits], ['inspection', visits], ['plan', { from: start - PLAN_LOOKBACK, to: Math.max(end, now) }]])),
  ]);
  const plans = [...events.values()].flat().filter((e) => e.type === 'plan');
  const agencyIds = [...new Set([plan.agency_id, ...plan.joint_agency_ids, ...plans.flatMap((p) => [p.agency_id, ...p.joint_agency_ids])])];
  return { companies, events, agencies: await readAgencies(storage, agencyIds), now };
}

async function readAgencies(storage: Storage, ids: readonly string[]): Promise<Map<string, { name: string; region: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await storage.query<{ agency_id: string; name: string; region: string }>(
    'SELECT agency_id, name, region FROM agencies FINAL WHERE agency_id IN {ids:Array(String)}', { ids });
  return new Map(rows.map((r) => [r.agency_id, { name: r.name, region: r.region }]));
}

/** The matters (检查事项) of plan versions (event ids) for these companies, from the accepted JSON. */
export async function readMatters(storage: Storage, enterpriseIds: readonly string[], eventIds: readonly string[]): Promise<Map<string, string[]>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Map();
  const rows = await storage.query<{ id: string; payload: string }>(
    `SELECT id, any(payload) AS payload FROM events
     WHERE enterprise_id IN {companies:Array(String)} AND type = 'plan' AND id IN {ids:Array(String)} GROUP BY id`,
    { companies: enterpriseIds, ids });
  return new Map(rows.map((r) => [r.id, (JSON.parse(r.payload) as { matters?: string[] }).matters ?? []]));
}

export interface StoredCheck extends CompanyCheck {
  plan_id: string;
  event_id: string;
  agency_id: string;
  agency_name: string;
  agency_level: PlanCheck['agency_level'];
  matters: string[];
  window_start: string;
  window_end: string;
  status: string;
  checked_at: string;
}

interface CheckRow {
  plan_id: string;
  enterprise_id: string;
  event_id: string;
  region: string;
  agency_id: string;
  window_start: string;
  window_end: string;
  status: string;
  verdict: Verdict;
  findings: string;
  suggestions: string;
  checked_at: string;
}

const COLUMNS = 'plan_id, enterprise_id, event_id, region, agency_id, window_start, window_end, status, verdict, findings, suggestions, checked_at';

export interface SuggestionRecord {
  id: string;
  plan_id: string;
  action: SuggestionBody['action'];
  with_plan_ids: string[];
  window_start: string | null;
  window_end: string | null;
  note: string;
  region: string;
  agency_id: string;
  actor: string;
  actor_role: string;
  at: string;
}

export function createPlanCheckStore(storage: Storage) {
  return {
    /** Keeps the check of a filed plan version, one row per company; checking the version again replaces it. */
    async save(check: PlanCheck, plan: PlanUnderCheck & { event_id: string }): Promise<void> {
      if (!check.plan_id) throw new Error('only a filed plan\'s check is stored');
      await storage.insert('plan_checks', check.companies.map((c) => ({
        plan_id: check.plan_id, enterprise_id: c.enterprise_id, event_id: plan.event_id, region: c.region, agency_id: plan.agency_id,
        window_start: plan.window_start, window_end: plan.window_end, status: plan.status, verdict: c.verdict,
        findings: JSON.stringify({ name: c.name, agency_name: check.agency_name, agency_level: check.agency_level, matters: check.matters, findings: c.findings, merge_candidates: c.merge_candidates }),
        suggestions: JSON.stringify(c.suggestions), checked_at: toClickHouseTime(new Date(check.checked_at)),
      })));
    },

    /** Plans still to come (window not over by `today`) in a region, by company, with their stored checks. */
    async upcoming(regionPrefix: string, today: string, limit: number): Promise<StoredCheck[]> {
      const rows = await storage.query<CheckRow>(
        `SELECT ${COLUMNS} FROM plan_checks FINAL
         WHERE window_end >= {today:Date} AND startsWith(region, {prefix:String}) AND status NOT IN ('cancelled', 'merged')
         ORDER BY enterprise_id, window_start, plan_id LIMIT {limit:UInt32}`,
        { today, prefix: regionPrefix, limit });
      return rows.map(fromCheckRow);
    },

    async forPlan(planId: string): Promise<StoredCheck[]> {
      const rows = await storage.query<CheckRow>(
        `SELECT ${COLUMNS} FROM plan_checks FINAL WHERE plan_id = {plan:String} ORDER BY enterprise_id`, { plan: planId });
      return rows.map(fromCheckRow);
    },

    /** Derived from what is suggested and by whom: a retried request is the same suggestion. */
    suggestionId: async (record: Omit<SuggestionRecord, 'id' | 'at'>) => suggestionId(record),

    async suggest(record: Omit<SuggestionRecord, 'id'>): Promise<SuggestionRecord> {
      const saved = { id: suggestionId(record), ...record };
      await storage.insert('plan_suggestions', [{ ...saved, at: toClickHouseTime(new Date(record.at)) }]);
      return saved;
    },

    async suggestions(planIds: readonly string[]): Promise<SuggestionRecord[]> {
      if (planIds.length === 0) return [];
      const rows = await storage.query<SuggestionRecord>(
        `SELECT id, plan_id, action, with_plan_ids, toString(window_start) AS window_start, toString(window_end) AS window_end,
                note, region, agency_id, actor, actor_role, at
         FROM plan_suggestions FINAL WHERE plan_id IN {ids:Array(String)} ORDER BY at DESC, id`, { ids: planIds });
      return rows.map((r) => ({
        ...r, window_start: r.window_start || null, window_end: r.window_end || null,
        at: fromClickHouseTime(String(r.at)).toISOString(),
      }));
    },
  };
}
export type PlanCheckStore = ReturnType<typeof createPlanCheckStore>;

const suggestionId = (r: Omit<SuggestionRecord, 'id' | 'at'>) => createHash('sha256')
  .update(JSON.stringify([r.plan_id, r.action, r.with_plan_ids, r.window_start, r.window_end, r.note, r.actor]))
  .digest('hex').slice(0, 32);

function fromCheckRow(r: CheckRow): StoredCheck {
  const stored = JSON.parse(r.findings) as Pick<CompanyCheck, 'name' | 'findings' | 'merge_candidates'> & Pick<PlanCheck, 'agency_name' | 'agency_level' | 'matters'>;
  return {
    plan_id: r.plan_id, event_id: r.event_id, agency_id: r.agency_id, agency_name: stored.agency_name, agency_level: stored.agency_level ?? null, matters: stored.matters ?? [], window_start: String(r.window_start), window_end: String(r.window_end),
    status: r.status, checked_at: fromClickHouseTime(String(r.checked_at)).toISOString(),
    enterprise_id: r.enterprise_id, name: stored.name, region: r.region, verdict: r.verdict, findings: stored.findings,
    merge_candidates: stored.merge_candidates, suggestions: JSON.parse(r.suggestions) as CompanyCheck['suggestions'],
  };
}
