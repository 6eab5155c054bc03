import { calendarDate } from '../calendar/index.js';
import type { EngineEvent } from './events.js';

/**
 * Plans have an identity (`plan_id`, by default the event id): a later
 * version of a plan supersedes the earlier one, and a cancelled version
 * withdraws its cover from the moment it was filed. What stood at an instant
 * is therefore the latest version filed by then. Seen from a visit at
 * `anchor`, each plan is:
 * - the version standing at the anchor, dated by the first of the unbroken
 *   run of standing versions that already covered the visit's day (the lead
 *   time counts from when the cover began, not from a later edit);
 * - or, if none stood then, its versions filed afterwards (an urgent check's
 *   plan filed later), until one cancels it.
 * Other events pass through unchanged.
 *
 * A joint plan that names plans in `replaces` (合并) withdraws them from its
 * own filing on, as a cancelled version of each would.
 *
 * Reading: the events table holds a plan once per company it names, so a
 * version that drops a company is not seen from that company; withdrawing a
 * company takes a cancelled version naming it.
 */
export function plansAsOf(events: readonly EngineEvent[], anchor: number): EngineEvent[] {
  const out = events.filter((e) => e.type !== 'plan');
  for (const plan of standingAt(planVersions(events), anchor)) out.push(plan);
  return out;
}

/** The plans of `plansAsOf` alone, from each plan's versions (`planVersions`), in the same order. */
export function standingAt(versions: ReadonlyMap<string, readonly EngineEvent[]>, anchor: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  const day = calendarDate(anchor);
  for (const list of versions.values()) {
    // Versions are in filing order: those filed by the anchor come first.
    let filed = 0;
    while (filed < list.length && list[filed]!.occurred_at <= anchor) filed++;
    const standing = list[filed - 1];
    if (standing && standing.status !== 'cancelled') {
      let first = filed - 1;
      while (first > 0 && covers(list[first - 1]!, day) && covers(standing, day)) first--;
      out.push(first === filed - 1 ? standing : { ...standing, occurred_at: list[first]!.occurred_at });
      continue;
    }
    for (let i = filed; i < list.length && list[i]!.status !== 'cancelled'; i++) out.push(list[i]!);
  }
  return out;
}

/** A standing plan covering the Shanghai date `day`. A function of the module: this runs for every trigger. */
const covers = (p: EngineEvent, day: string) =>
  p.status !== 'cancelled' && p.window_start !== null && p.window_end !== null && p.window_start <= day && day <= p.window_end;

/**
 * Each plan merged into a joint plan (named in a standing version's `replaces`), as the cancelled version that
 * withdraws it: filed when the joint plan first named it.
 */
export function mergedAway(events: readonly EngineEvent[]): Map<string, EngineEvent> {
  const out = new Map<string, EngineEvent>();
  for (const e of events) {
    if (e.type !== 'plan' || e.status === 'cancelled') continue;
    for (const id of e.replaces) {
      const seen = out.get(id);
      if (id === (e.plan_id || e.id) || (seen && seen.occurred_at <= e.occurred_at)) continue;
      out.set(id, { ...e, id: `${e.id}>${id}`, plan_id: id, status: 'cancelled', replaces: [] });
    }
  }
  return out;
}

/**
 * Every version of each plan (by `plan_id`), oldest first. A plan merged into a joint plan ends with the
 * withdrawal `mergedAway` makes, as if cancelled when the joint plan named it: the joint plan carries its task on.
 */
export function planVersions(events: readonly EngineEvent[]): Map<string, EngineEvent[]> {
  const versions = new Map<string, EngineEvent[]>();
  for (const e of events) {
    if (e.type !== 'plan') continue;
    const id = e.plan_id || e.id;
    const list = versions.get(id);
    if (list) list.push(e);
    else versions.set(id, [e]);
  }
  for (const [id, withdrawal] of mergedAway(events)) versions.get(id)?.push(withdrawal);
  for (const list of versions.values()) list.sort((a, b) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : 1));
  return versions;
}

/** The plan's agency and its joint agencies (联合实施单位), each once. */
export const planAgencies = (plan: EngineEvent): string[] => [...new Set([plan.agency_id, ...plan.joint_agency_ids].filter(Boolean))];

/**
 * A visit linked to a plan (海曙: "先有計劃上平臺、后有行政檢查相關聯"): an on-site scan or record at the
 * plan's company, by one of its agencies, on a day of its window, naming this plan or none. A visit that
 * names another plan belongs to that one. This is what "carried out" means in plan-not-executed, in the
 * weekly review (GET /v1/plans/review) and in the statistics of plans carried out.
 */
export function isLinkedVisit(plan: EngineEvent, e: EngineEvent): boolean {
  if ((e.type !== 'checkin' && e.type !== 'inspection') || !e.onsite || e.enterprise_id !== plan.enterprise_id) return false;
  if (e.type === 'checkin' && e.action === 'exit') return false;
  if (e.plan_id !== '' && e.plan_id !== plan.plan_id) return false;
  if (!planAgencies(plan).includes(e.agency_id) || plan.window_start === null || plan.window_end === null) return false;
  const day = calendarDate(e.type === 'inspection' ? e.started_at ?? e.occurred_at : e.occurred_at);
  return plan.window_start <= day && day <= plan.window_end;
}
