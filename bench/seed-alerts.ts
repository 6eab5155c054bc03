/**
 * The alerts a history loaded straight into storage would already have: the
 * rule engine run over every company's whole history (as a backtest does)
 * and its conclusions stored through the alert store, as the live workers
 * would have stored them while the history arrived. Without this, the first
 * live event of a company makes the engine raise that company's historical
 * alerts at once (a one-off catch-up the live phases would otherwise pay for),
 * and the engine's alert reads would find an unrealistically empty table.
 */
import { reconcile, type AlertStore, type Revision } from '../src/alerts/index.js';
import { readAgencyNames, readCompanies, readEvents } from '../src/rules/context.js';
import { anchorNeeds, evaluateCompany, mergeNeeds } from '../src/rules/engine.js';
import type { RuleSet } from '../src/rules/load.js';
import { companyOf } from '../src/rules/company.js';
import type { Storage } from '../src/storage/index.js';

/** Companies are taken in slices of adjacent ids, so each slice's read touches only its own part of `events`. */
export async function seedHistoryAlerts(
  storage: Storage, alerts: AlertStore, rules: RuleSet, companyIds: readonly string[], anchors: { from: number; to: number }, sliceSize = 5_000,
): Promise<{ alerts: number; byRule: Record<string, number> }> {
  const sorted = [...companyIds].sort();
  const now = new Date();
  const regions = new Set(['', ...rules.rules.flatMap((r) => (r.placement ?? []).map((o) => o.prefix))]);
  const spans = mergeNeeds([...regions].flatMap((region) => anchorNeeds(rules.rules, region, anchors)));
  const byRule: Record<string, number> = {};
  let raised = 0;
  let saving: Promise<void> = Promise.resolve();
  for (let i = 0; i < sorted.length; i += sliceSize) {
    const ids = sorted.slice(i, i + sliceSize);
    const [companies, events] = await Promise.all([readCompanies(storage, ids), readEvents(storage, ids, spans)]);
    const agencyIds = [...new Set([...events.values()].flat().flatMap((e) => [e.agency_id, ...e.joint_agency_ids]).filter(Boolean))];
    const names = await readAgencyNames(storage, agencyIds);
    const naming = { agencyName: (id: string) => names.get(id) ?? id };
    const revisions: Revision[] = [];
    for (const [id, own] of events) {
      const company = companyOf(id, companies, events);
      const result = evaluateCompany(rules.rules, { company, events: own, changed: null, now: now.getTime(), naming });
      revisions.push(...reconcile(new Map(), result.candidates, result.scopes, now, 'history'));
    }
    for (const { alert } of revisions) byRule[alert.rule_id] = (byRule[alert.rule_id] ?? 0) + 1;
    raised += revisions.length;
    // One save in flight while the next slice is read and evaluated.
    await saving;
    saving = alerts.save(revisions);
  }
  await saving;
  return { alerts: raised, byRule };
}
