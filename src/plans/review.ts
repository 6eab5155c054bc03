import { addDays, midnight } from '../calendar/index.js';
import { readAgencyNames } from '../rules/context.js';
import { fromStoredRow, type EngineEvent } from '../rules/events.js';
import { isLinkedVisit, planVersions } from '../rules/plans.js';
import type { Storage } from '../storage/index.js';
import { enterpriseNames } from '../storage/tables/enterprises.js';
import { onsiteVisits, planVersionsEndingIn } from '../storage/tables/events.js';

/** A plan's task at one company, as the weekly review sees it (海曙 "以周為單位回看執行情況,確保任務銷號"). */
export interface ReviewTask {
  plan_id: string;
  enterprise_id: string;
  enterprise_name: string | null;
  window_start: string;
  window_end: string;
  joint_agency_ids: string[];
  /** carried_out: a visit is linked to the plan (isLinkedVisit); cancelled: its latest version cancels it. */
  status: 'carried_out' | 'not_carried_out' | 'cancelled';
  /** The first linked visit (an entry scan or on-site record), when carried out. */
  visit: { id: string; agency_id: string; at: string } | null;
}

export interface AgencyReview {
  agency_id: string;
  name: string | null;
  /** Tasks not cancelled: carried_out + not_carried_out. */
  planned: number;
  carried_out: number;
  not_carried_out: number;
  cancelled: number;
  tasks: ReviewTask[];
}

export interface WeeklyReview {
  region: string;
  week: string;
  from: string;
  to: string;
  agencies: AgencyReview[];
}

/** Monday and Sunday of an ISO week ('2025-W33' → 2025-08-11 … 2025-08-17); null if the year has no such week. */
export function isoWeekDays(week: string): { from: string; to: string } | null {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) return null;
  const [year, n] = [Number(m[1]), Number(m[2])];
  const from = addDays(firstMonday(year), (n - 1) * 7);
  if (n < 1 || from >= firstMonday(year + 1)) return null;
  return { from, to: addDays(from, 6) };
}

/** 4 January is always in week 1: its week's Monday starts the ISO year. */
const firstMonday = (year: number) => addDays(`${year}-01-04`, -((new Date(Date.UTC(year, 0, 4)).getUTCDay() + 6) % 7));

/**
 * The weekly review: each agency's plan tasks (a plan at one company) whose window ends in the ISO week, by
 * the plan's latest version, carried out or not, or cancelled. Plans are those filed in the region prefix.
 * A visit that syncs late counts as soon as it is stored: the review reads events, not alerts.
 */
export async function weeklyReview(storage: Storage, query: { region: string; week: string }): Promise<WeeklyReview> {
  const days = isoWeekDays(query.week);
  if (!days) throw new RangeError(`no ISO week ${query.week}`);
  const plans = latestTasks(await readPlans(storage, query.region, days), days);
  const visits = await readVisits(storage, plans);
  const [agencyNames, companyNames] = await Promise.all([
    readAgencyNames(storage, [...new Set(plans.map((p) => p.agency_id))]),
    readCompanyNames(storage, [...new Set(plans.map((p) => p.enterprise_id))]),
  ]);
  const byAgency = new Map<string, AgencyReview>();
  for (const plan of plans) {
    const linked = plan.status === 'cancelled' ? undefined : (visits.get(plan.enterprise_id) ?? []).find((e) => isLinkedVisit(plan, e));
    const status: ReviewTask['status'] = plan.status === 'cancelled' ? 'cancelled' : linked ? 'carried_out' : 'not_carried_out';
    let agency = byAgency.get(plan.agency_id);
    if (!agency) {
      agency = { agency_id: plan.agency_id, name: agencyNames.get(plan.agency_id) ?? null, planned: 0, carried_out: 0, not_carried_out: 0, cancelled: 0, tasks: [] };
      byAgency.set(plan.agency_id, agency);
    }
    agency[status]++;
    if (status !== 'cancelled') agency.planned++;
    agency.tasks.push({
      plan_id: plan.plan_id, enterprise_id: plan.enterprise_id, enterprise_name: companyNames.get(plan.enterprise_id) ?? null,
      window_start: plan.window_start!, window_end: plan.window_end!, joint_agency_ids: [...plan.joint_agency_ids], status,
      visit: linked ? { id: linked.id, agency_id: linked.agency_id, at: new Date(linked.started_at ?? linked.occurred_at).toISOString() } : null,
    });
  }
  const agencies = [...byAgency.values()].sort((a, b) => (a.agency_id < b.agency_id ? -1 : 1));
  for (const a of agencies) a.tasks.sort((x, y) => x.window_end.localeCompare(y.window_end) || x.plan_id.localeCompare(y.plan_id) || x.enterprise_id.localeCompare(y.enterprise_id));
  return { region: query.region, week: query.week, ...days, agencies };
}

/** Every version of the plans any version of which ends in the week (a later version may move it in or out). */
async function readPlans(storage: Storage, region: string, days: { from: string; to: string }): Promise<EngineEvent[]> {
  return (await planVersionsEndingIn(storage, { region, from: days.from, to: days.to })).map(fromStoredRow);
}

/** Per company and plan, the latest version, kept when its window ends in the week. */
function latestTasks(versions: readonly EngineEvent[], days: { from: string; to: string }): EngineEvent[] {
  const byCompany = new Map<string, EngineEvent[]>();
  for (const v of versions) byCompany.set(v.enterprise_id, [...(byCompany.get(v.enterprise_id) ?? []), v]);
  return [...byCompany.values()]
    .flatMap((own) => [...planVersions(own).values()].map((list) => list.at(-1)!))
    .filter((p) => p.window_start !== null && p.window_end !== null && days.from <= p.window_end && p.window_end <= days.to);
}

/** The on-site scans and records of the plans' companies from the earliest window start on. */
async function readVisits(storage: Storage, plans: readonly EngineEvent[]): Promise<Map<string, EngineEvent[]>> {
  const byCompany = new Map<string, EngineEvent[]>();
  if (plans.length === 0) return byCompany;
  const from = plans.map((p) => p.window_start!).sort()[0]!;
  const to = plans.map((p) => p.window_end!).sort().at(-1)!;
  const rows = await onsiteVisits(storage, {
    enterpriseIds: [...new Set(plans.map((p) => p.enterprise_id))], from: new Date(midnight(from)), to: new Date(midnight(addDays(to, 1)) - 1),
  });
  for (const e of rows.map(fromStoredRow)) byCompany.set(e.enterprise_id, [...(byCompany.get(e.enterprise_id) ?? []), e]);
  return byCompany;
}

async function readCompanyNames(storage: Storage, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  return new Map((await enterpriseNames(storage, { ids })).map((r) => [r.enterprise_id, r.name]));
}
