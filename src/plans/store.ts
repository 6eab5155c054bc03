import { createHash } from 'node:crypto';
import { DAY, midnight } from '../calendar/index.js';
import { byTime, fromStoredRow, type CompanyFacts, type EngineEvent } from '../rules/events.js';
import { readAgencies, readCompanies, readEvents, type AgencyFacts } from '../rules/context.js';
import { fromClickHouseTime, toClickHouseTime, type Storage } from '../storage/index.js';
import { mergingPlanRows, planPayloads, planVersionRows, type Spans } from '../storage/tables/events.js';
import { insertPlanChecks, planCheckRows, planChecksOfPlan, upcomingPlanChecks, type PlanCheckRow } from '../storage/tables/plan-checks.js';
import { insertPlanSuggestions, suggestionsOfPlans } from '../storage/tables/plan-suggestions.js';
import type { CheckInput } from './check.js';
import type { CompanyCheck, PlanCheck, PlanUnderCheck, SuggestionBody } from './model.js';

/**
 * What the plan check reads (companies, their visits and plans around the
 * window, agencies, matters) and what Qingjian keeps of it: the check of every
 * filed plan (`plan_checks`) and the coordinating office's suggestions
 * (`plan_suggestions`), both migration 10 (src/storage/tables/plan-checks.ts, plan-suggestions.ts).
 */

/** Plans are filed at most this long ahead of their window (as the engine reads them). */
const PLAN_LOOKBACK = 400 * DAY;
/** Visits this long around the window: the frequency rules' windows (15 days) fit with room. */
const VISITS_AROUND = 31 * DAY;

/**
 * The latest version of a filed plan, or null when no plan has this id. With `within`, only as seen from these
 * companies (a key range each, instead of every plan), read through `reads`: its check then covers them alone.
 */
export async function readPlan(
  storage: Storage, planId: string, within?: readonly string[], reads: CheckReads = readFrom(storage),
): Promise<(PlanUnderCheck & { event_id: string }) | null> {
  const stored = within ? await planAmong(reads, planId, within) : await planAnywhere(storage, planId);
  if (!stored) return null;
  const { versions, merged, matters } = stored;
  const e = versions.at(-1)!;
  return {
    event_id: e.id,
    plan_id: planId,
    region: e.region,
    agency_id: e.agency_id,
    enterprise_ids: [...new Set(versions.filter((v) => v.id === e.id).map((v) => v.enterprise_id))],
    window_start: e.window_start!,
    window_end: e.window_end!,
    mode: e.mode as 'onsite' | 'offsite',
    joint_agency_ids: [...e.joint_agency_ids],
    matters,
    reviewed_by: e.reviewed_by,
    replaces: [...e.replaces],
    filed_at: versions[0]!.occurred_at,
    status: merged ? 'merged' : e.status,
  };
}

/** A plan's stored versions (one per company each names, in event-time order), whether a standing joint plan merged it, and its latest matters. */
interface StoredPlan {
  versions: EngineEvent[];
  merged: boolean;
  matters: string[];
}

const mattersOf = (payload: string) => (JSON.parse(payload) as { matters?: string[] }).matters ?? [];

/** Searched among every company's plans. */
async function planAnywhere(storage: Storage, planId: string): Promise<StoredPlan | null> {
  const rows = await planVersionRows(storage, { planId });
  if (rows.length === 0) return null;
  // A standing joint plan that names this one in `replaces` has merged it away.
  const [merged] = await mergingPlanRows(storage, { planId });
  return { versions: rows.map(({ payload: _, ...row }) => fromStoredRow(row)), merged: (merged?.n ?? 0) > 0, matters: mattersOf(rows.at(-1)!.payload) };
}

const EVERY_PLAN: Spans = new Map([['plan', { from: -Infinity, to: Infinity }]]);

/**
 * Among these companies' plans, read through `reads` (a worker's memory holds them: no `FINAL` read of the table),
 * with the latest version's matters (`reads.matters`).
 */
async function planAmong(reads: CheckReads, planId: string, within: readonly string[]): Promise<StoredPlan | null> {
  const plans = [...(await reads.events(within, EVERY_PLAN)).values()].flat();
  const versions = plans.filter((p) => p.plan_id === planId).sort(byTime);
  const latest = versions.at(-1);
  if (!latest) return null;
  const matters = await reads.matters([latest]);
  // A standing joint plan that names this one in `replaces` has merged it away.
  return { versions, merged: plans.some((p) => p.status !== 'cancelled' && p.replaces.includes(planId)), matters: matters.get(latest.id) ?? [] };
}

/**
 * Where a check reads companies' facts, their events and agencies: ClickHouse (`readFrom`), or a worker's
 * evaluation memory, which answers as ClickHouse does (src/pipeline/histories.ts, src/reference/facts.ts) and holds
 * the companies whose plans were just stored. `matters`: of plan versions that `events` gave.
 */
export interface CheckReads {
  companies(ids: readonly string[]): Promise<Map<string, CompanyFacts>>;
  events(ids: readonly string[], spans: Spans): Promise<Map<string, EngineEvent[]>>;
  agencies(ids: readonly string[]): Promise<Map<string, AgencyFacts>>;
  matters: VersionMatters;
}

export const readFrom = (storage: Storage): CheckReads => ({
  companies: (ids) => readCompanies(storage, ids),
  events: (ids, spans) => readEvents(storage, ids, spans),
  agencies: (ids) => readAgencies(storage, ids),
  matters: createMattersReader(storage),
});

/** The matters (检查事项) of plan versions, by event id. */
export type VersionMatters = (versions: readonly EngineEvent[]) => Promise<Map<string, string[]>>;

/**
 * A plan version's matters as its row holds them; a row stored before plans' rows held them (or one of a plan
 * naming none) reads [], and its matters are read from the accepted JSON instead, once: remembered with the
 * version's object as the events' memory holds it (src/pipeline/histories.ts). A version stored again under its id
 * is a new object there, so it is read again; versions read from ClickHouse are new objects on every read.
 */
export function createMattersReader(storage: Storage): VersionMatters {
  const known = new WeakMap<EngineEvent, string[]>();
  return async (versions) => {
    const found = new Map<string, string[]>();
    const missing = new Map<string, EngineEvent>();
    for (const version of versions) {
      const matters = version.matters.length > 0 ? version.matters : known.get(version);
      if (matters) found.set(version.id, [...matters]);
      else if (!missing.has(version.id)) missing.set(version.id, version);
    }
    if (missing.size === 0) return found;
    // One company's row per version is enough: a plan naming 1,000 companies has 1,000 rows, each with the whole JSON.
    const read = await readMatters(storage, [...new Set([...missing.values()].map((v) => v.enterprise_id))], [...missing.keys()]);
    for (const [id, version] of missing) {
      const matters = read.get(id);
      if (matters === undefined) continue;
      known.set(version, matters);
      found.set(id, matters);
    }
    return found;
  };
}

/** Everything `checkPlan` needs besides the plan and the rules. */
export async function readCheckContext(
  storage: Storage, plan: PlanUnderCheck, now: number, reads: CheckReads = readFrom(storage),
): Promise<Omit<CheckInput, 'plan' | 'rules' | 'policy'>> {
  const ids = [...new Set(plan.enterprise_ids)];
  const start = midnight(plan.window_start);
  const end = midnight(plan.window_end) + DAY - 1;
  const yearStart = midnight(`${plan.window_start.slice(0, 4)}-01-01`);
  const visits = { from: Math.min(yearStart, start - VISITS_AROUND), to: end + VISITS_AROUND };
  const [companies, events] = await Promise.all([
    reads.companies(ids),
    reads.events(ids, new Map([['checkin', visits], ['inspection', visits], ['plan', { from: start - PLAN_LOOKBACK, to: Math.max(end, now) }]])),
  ]);
  const plans = [...events.values()].flat().filter((e) => e.type === 'plan');
  const agencyIds = [...new Set([plan.agency_id, ...plan.joint_agency_ids, ...plans.flatMap((p) => [p.agency_id, ...p.joint_agency_ids])])];
  return { companies, events, agencies: await reads.agencies(agencyIds), now };
}

/** The matters (检查事项) of plan versions (event ids) for these companies, from the accepted JSON. */
async function readMatters(storage: Storage, enterpriseIds: readonly string[], eventIds: readonly string[]): Promise<Map<string, string[]>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Map();
  const rows = await planPayloads(storage, { enterpriseIds, ids });
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
      await insertPlanChecks(storage, planCheckRows(check, plan));
    },

    /** Plans still to come (window not over by `today`) in a region, by company, with their stored checks. */
    async upcoming(regionPrefix: string, today: string, limit: number): Promise<StoredCheck[]> {
      return (await upcomingPlanChecks(storage, { today, prefix: regionPrefix, limit })).map(storedCheckOf);
    },

    async forPlan(planId: string): Promise<StoredCheck[]> {
      return (await planChecksOfPlan(storage, { plan: planId })).map(storedCheckOf);
    },

    /** Derived from what is suggested and by whom: a retried request is the same suggestion. */
    suggestionId: async (record: Omit<SuggestionRecord, 'id' | 'at'>) => suggestionId(record),

    async suggest(record: Omit<SuggestionRecord, 'id'>): Promise<SuggestionRecord> {
      const saved = { id: suggestionId(record), ...record };
      await insertPlanSuggestions(storage, [{ ...saved, at: toClickHouseTime(new Date(record.at)) }]);
      return saved;
    },

    async suggestions(planIds: readonly string[]): Promise<SuggestionRecord[]> {
      if (planIds.length === 0) return [];
      const rows = await suggestionsOfPlans(storage, { ids: planIds });
      return rows.map((r) => ({ ...r, at: fromClickHouseTime(r.at).toISOString() }));
    },
  };
}
export type PlanCheckStore = ReturnType<typeof createPlanCheckStore>;

const suggestionId = (r: Omit<SuggestionRecord, 'id' | 'at'>) => createHash('sha256')
  .update(JSON.stringify([r.plan_id, r.action, r.with_plan_ids, r.window_start, r.window_end, r.note, r.actor]))
  .digest('hex').slice(0, 32);

function storedCheckOf(r: PlanCheckRow): StoredCheck {
  const { name, agency_name, agency_level, matters, findings, merge_candidates } = r.findings;
  return {
    plan_id: r.plan_id, event_id: r.event_id, agency_id: r.agency_id, agency_name, agency_level, matters, window_start: r.window_start, window_end: r.window_end,
    status: r.status, checked_at: fromClickHouseTime(r.checked_at).toISOString(),
    enterprise_id: r.enterprise_id, name, region: r.region, verdict: r.verdict, findings, merge_candidates, suggestions: r.suggestions,
  };
}
