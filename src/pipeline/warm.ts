import type { AlertStore } from '../alerts/index.js';
import { withHolidayCalendar } from '../calendar/index.js';
import type { ReferenceFacts } from '../reference/index.js';
import { contextNeeds, mergeNeeds } from '../rules/engine.js';
import type { RuleRegistry } from '../rules/registry.js';
import type { Storage } from '../storage/index.js';
import { recentlyActive } from '../storage/tables/events.js';
import type { Histories } from './histories.js';

export interface WarmOptions {
  storage: Storage;
  rules: RuleRegistry;
  histories: Pick<Histories, 'read'>;
  alerts: Pick<AlertStore, 'forEnterprises'>;
  facts: Pick<ReferenceFacts, 'companies'>;
  /** The events memory holds (EVALUATE_MEMORY_EVENTS): warming fills it at most. */
  maxEvents: number;
  /** Companies read at once (EVALUATE_CHUNK). */
  chunk: number;
}

export interface WarmReport {
  companies: number;
  events: number;
  ms: number;
}

/**
 * What the evaluating process reads into memory when it starts: the events, alerts and facts of the companies
 * stored to most recently, as far back as any rule looks, so that the first evaluations after a start or a restart
 * find them there instead of queueing for ClickHouse. Each slice is read as an evaluation would read it (counts
 * first), so what warming remembers is trusted exactly as far as an evaluation's own reads are.
 */
export async function warmEvaluation(options: WarmOptions): Promise<WarmReport> {
  const started = performance.now();
  const report = { companies: 0, events: 0, ms: 0 };
  if (options.maxEvents === 0) return report;
  const now = Date.now();
  const span = { from: earliestNeed(options.rules, now), to: now };
  const budget = options.maxEvents;
  const chosen: string[] = [];
  for (const { enterprise_id, n } of await recentlyActive(options.storage, { from: new Date(span.from), limit: budget })) {
    if (report.events + n > budget) break;
    chosen.push(enterprise_id);
    report.events += n;
  }
  // The least recent first, so that memory forgets them first when new events need the room.
  chosen.reverse();
  for (let i = 0; i < chosen.length; i += options.chunk) {
    const slice = chosen.slice(i, i + options.chunk);
    await options.histories.read(slice, new Map([[null, span]]));
    await options.alerts.forEnterprises(slice);
    await options.facts.companies(slice);
  }
  return { ...report, companies: chosen.length, ms: Math.round(performance.now() - started) };
}

/** How far back any rule in force anywhere looks to decide what an event now changes. */
function earliestNeed(registry: RuleRegistry, now: number): number {
  const { rules, calendar } = registry.current();
  const regions = new Set(['', ...rules.flatMap((r) => (r.placement ?? []).map((p) => p.prefix))]);
  const spans = withHolidayCalendar(calendar, () => mergeNeeds([...regions].flatMap((region) => contextNeeds(rules, region, { from: now, to: now }))));
  return Math.min(now, ...[...spans.values()].map((s) => s.from));
}
