import type { AlertStore } from '../alerts/index.js';
import { MAX_REMEMBERED_FACTS, type ReferenceFacts } from '../reference/index.js';
import type { Storage } from '../storage/index.js';
import { agenciesInRegion } from '../storage/tables/agencies.js';
import { enterprisesUpdatedLast } from '../storage/tables/enterprises.js';
import { recentlyActive } from '../storage/tables/events.js';
import { WHOLE_HISTORY, type Histories } from './histories.js';

export interface WarmOptions {
  storage: Storage;
  histories: Pick<Histories, 'read'>;
  alerts: Pick<AlertStore, 'forEnterprises'>;
  facts: Pick<ReferenceFacts, 'companies' | 'agencyNames'>;
  /** The events memory holds (EVALUATE_MEMORY_EVENTS): warming fills it at most. */
  maxEvents: number;
  /** Companies read at once (EVALUATE_CHUNK). */
  chunk: number;
}

export interface WarmReport {
  /** Companies whose events were read. */
  companies: number;
  events: number;
  /** Companies whose facts and alerts were read: every one registered or with events, as many as facts memory holds. */
  facts: number;
  /** Agencies whose names were read: every registered one. */
  agencies: number;
  ms: number;
}

// Reads that return a row or none per company (facts, alerts, companies without events) take many companies at once:
// 2,000 credit codes are about 42 KiB of SQL, under the 64 KiB a literal list may take (tables/query.ts).
const LARGE_CHUNK = 2_000;

/**
 * What the evaluating process reads into memory when it starts: the whole history of the companies stored to most
 * recently, as many events as memory holds; the facts and alerts of every company registered or with events (as
 * many as facts memory holds); and every agency's name. The first evaluations after a start or a restart then find
 * them there instead of queueing for ClickHouse. Each slice is read as an evaluation would read it (counts first),
 * so what warming remembers is trusted exactly as far as an evaluation's own reads are.
 */
export async function warmEvaluation(options: WarmOptions): Promise<WarmReport> {
  const started = performance.now();
  if (options.maxEvents === 0) return { companies: 0, events: 0, facts: 0, agencies: 0, ms: 0 };
  // Most recent first, with the size of their whole history (what memory holds of a company); as many as facts
  // memory holds, of which events memory takes the first.
  const active = await recentlyActive(options.storage, { limit: MAX_REMEMBERED_FACTS });
  const activeIds = active.map((c) => c.enterprise_id);
  const isActive = new Set(activeIds);
  const registered = await enterprisesUpdatedLast(options.storage, { limit: MAX_REMEMBERED_FACTS });
  const quiet = registered.map((r) => r.enterprise_id).filter((id) => !isActive.has(id));
  const facts = await warmFactsAndAlerts(options, quiet, activeIds);
  // That a registered company has no events is worth knowing too: each weighs one in memory, so a tenth of it at
  // most, read first so that memory forgets them before the active companies.
  const known = quiet.slice(0, Math.floor(options.maxEvents / 10));
  for (let i = 0; i < known.length; i += LARGE_CHUNK) await options.histories.read(known.slice(i, i + LARGE_CHUNK), WHOLE_HISTORY);
  const events = await warmEvents(options, active, options.maxEvents - known.length);
  const agencies = (await agenciesInRegion(options.storage, { region: '' })).map((a) => a.agency_id).slice(-MAX_REMEMBERED_FACTS);
  for (let i = 0; i < agencies.length; i += LARGE_CHUNK) await options.facts.agencyNames(agencies.slice(i, i + LARGE_CHUNK));
  return { ...events, facts, agencies: agencies.length, ms: Math.round(performance.now() - started) };
}

/** The events of the companies stored to last, as many as the budget. */
async function warmEvents(options: WarmOptions, active: ReadonlyArray<{ enterprise_id: string; n: number }>, budget: number) {
  const chosen: string[] = [];
  let events = 0;
  for (const { enterprise_id, n } of active) {
    if (events + n > budget) break;
    chosen.push(enterprise_id);
    events += n;
  }
  // The least recent first, so that memory forgets them first when new events need the room.
  chosen.reverse();
  for (let i = 0; i < chosen.length; i += options.chunk) await options.histories.read(chosen.slice(i, i + options.chunk), WHOLE_HISTORY);
  return { companies: chosen.length, events };
}

/**
 * Facts and alerts of many more companies than events memory holds: a company evaluated without its events in memory
 * then reads only those. Most companies have few alerts or none, and knowing "none" spares a read as much as knowing
 * them. The quiet (registered, without events) first and the active last, so that memory forgets them last.
 */
async function warmFactsAndAlerts(options: WarmOptions, quiet: readonly string[], activeIds: readonly string[]): Promise<number> {
  const ids = [...[...quiet].reverse(), ...[...activeIds].reverse()].slice(-MAX_REMEMBERED_FACTS);
  for (let i = 0; i < ids.length; i += LARGE_CHUNK) {
    const slice = ids.slice(i, i + LARGE_CHUNK);
    await options.facts.companies(slice);
    await options.alerts.forEnterprises(slice);
  }
  return ids.length;
}
