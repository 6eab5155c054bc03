import type { Alert } from '../alerts/model.js';
import { reconcile } from '../alerts/lifecycle.js';
import type { Event } from '../ingest/schema.js';
import type { CompiledRule } from './compile.js';
import { evaluateCompany, influence, type Changed } from './engine.js';
import { companyOf } from './company.js';
import { byTime, fromEvent, type CompanyFacts, type EngineEvent } from './events.js';
import { refusingOthers, type EventField } from './fields.js';

/**
 * The live pipeline in memory, on a pinned clock: events arrive in the order
 * given (late and out of order if they say so), each arrival is evaluated as
 * the workers would, deferred decisions run at their deadlines, and alerts go
 * through the same lifecycle as stored ones. Rule tests run on this.
 */
export interface Simulation {
  rules: readonly CompiledRule[];
  companies: readonly CompanyFacts[];
  agencyNames: ReadonlyMap<string, string>;
  arrivals: ReadonlyArray<{ at: number; event: Event }>;
  /** The clock stops here: decisions due later have not happened yet. */
  until: number;
  /** When given, events hold only these fields and reading any other throws (rule tests: what a backtest reads). */
  fields?: ReadonlySet<EventField>;
}

export function simulate(sim: Simulation): Alert[] {
  const alerts = new Map<string, Alert>();
  const events = new Map<string, EngineEvent[]>();
  const decisions: Array<{ at: number; enterprise_id: string; anchor: number }> = [];
  const facts = new Map(sim.companies.map((c) => [c.enterprise_id, c]));
  const naming = { agencyName: (id: string) => sim.agencyNames.get(id) ?? id };
  const arrivals = [...sim.arrivals].sort((a, b) => a.at - b.at);
  const kept = sim.fields ? refusingOthers(sim.fields) : (event: EngineEvent) => event;

  const step = (company: CompanyFacts, changed: Changed, now: number, reason: string) => {
    const own = events.get(company.enterprise_id) ?? [];
    const result = evaluateCompany(sim.rules, { company, events: own, changed, now, naming });
    const stored = new Map([...alerts].filter(([, a]) => a.enterprise_id === company.enterprise_id));
    for (const { alert } of reconcile(stored, result.candidates, result.scopes, new Date(now), reason)) alerts.set(alert.id, alert);
    for (const p of result.pending) {
      if (!decisions.some((d) => d.at === p.at && d.anchor === p.anchor && d.enterprise_id === company.enterprise_id)) {
        decisions.push({ at: p.at, anchor: p.anchor, enterprise_id: company.enterprise_id });
      }
    }
  };

  let next = 0;
  for (;;) {
    decisions.sort((a, b) => a.at - b.at);
    const arrival = arrivals[next];
    const decision = decisions[0];
    const t = Math.min(arrival?.at ?? Infinity, decision?.at ?? Infinity);
    if (t > sim.until) break;
    if (decision && decision.at <= (arrival?.at ?? Infinity)) {
      decisions.shift();
      step(companyOf(decision.enterprise_id, facts, events), { from: decision.anchor, to: decision.anchor }, decision.at, 'decision due');
      continue;
    }
    next++;
    const rows = fromEvent(arrival!.event).map(kept);
    for (const row of rows) {
      const own = events.get(row.enterprise_id) ?? [];
      if (!own.some((e) => e.id === row.id)) own.push(row);
      events.set(row.enterprise_id, own.sort(byTime));
      step(companyOf(row.enterprise_id, facts, events), influence([row]), arrival!.at, `re-evaluated after event ${row.id}`);
    }
  }
  return [...alerts.values()];
}
