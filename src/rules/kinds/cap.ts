import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import type { Finding, Verdict } from '../findings.js';
import { num } from '../offsets.js';
import { groupBy } from '../../collections.js';
import { countUnits, type Unit } from './counting.js';
import { exemptionFor, requirementNeeds } from './exemptions.js';
import { lookup } from './lookup.js';
import { periodOf } from './periods.js';
import type { Kind } from './types.js';
import { planNeeds, timeOf } from './visits.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'cap' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * Matching events per key and calendar period against a limit taken from the
 * company (e.g. its credit grade). One alert per key and period once the
 * count exceeds the limit; every further event updates it.
 */
export const cap: Kind = {
  // not_counted_basis names the national law (国家另有规定) of each visit left uncounted.
  reads: ['national_basis'],
  evaluate(rule, input) {
    const { detect, exemptions } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    const limit = lookup(detect.limit, input.company);
    if (limit === undefined || limit === null) return verdict;
    const matches = rule.when(detect.match);
    const counted: EngineEvent[] = [];
    for (const event of input.events) {
      if (!matches(event)) continue;
      const exemption = exemptionFor(rule, exemptions, event, event.occurred_at, input);
      if (exemption.state === 'pending') verdict.pending.push({ at: exemption.deadline, anchor: event.occurred_at });
      if (exemption.state === 'none' || exemption.state === 'unfiled') counted.push(event);
    }
    const key = (e: EngineEvent) => [...detect.group_by.map((f) => e[f]), periodOf(timeOf(e), detect.period).label].join('\n');
    const plans = input.events.filter((e) => e.type === 'plan');
    for (const group of groupBy(counted, key).values()) {
      const finding = overLimit(rule, countUnits(group, detect.count, plans), num(limit), input.company.credit_grade);
      if (finding && finding.anchor >= input.from && finding.anchor <= input.to) verdict.findings.push(finding);
    }
    return verdict;
  },
  decideRange(rule, t1, t2) {
    const { period } = spec(rule).detect;
    return [periodOf(t1, period).start, periodOf(t2, period).end];
  },
  context(rule, from, to) {
    const { detect, exemptions } = spec(rule);
    return [{ types: rule.types(detect.match), from, to }, ...planNeeds(detect.count, from, to), ...requirementNeeds(rule, exemptions, from, to)];
  },
};

function overLimit(rule: ResolvedRule, all: Unit[], limit: number, grade: string | null): Finding | null {
  const { detect } = spec(rule);
  const excluded = detect.not_counted ? rule.when(detect.not_counted) : () => false;
  const visits = typeof detect.count === 'object' && 'visits' in detect.count;
  const units = all.filter((u) => !u.events.some(excluded));
  const left = all.filter((u) => u.events.some(excluded));
  if (units.length <= limit) return null;
  const period = periodOf(units[0]!.at, detect.period);
  return {
    key: detect.group_by.map((f) => units[0]!.events[0]![f]),
    anchor: period.start,
    windowStart: period.start,
    windowEnd: period.end,
    variant: '',
    evidence: [
      ...units.flatMap((u, i) => u.events.map((event) => ({ event, role: i < limit ? 'counted' : 'over_limit', ...(visits ? { visit: i + 1 } : {}) }))),
      ...left.flatMap((u) => u.events.map((event) => ({ event, role: 'not_counted' }))),
    ],
    figures: {
      count: units.length, limit, grade: grade ?? '—', period: period.label, not_counted: left.length,
      not_counted_basis: [...new Set(left.flatMap((u) => u.events.map((e) => e.national_basis).filter(Boolean)))].join('；') || '—',
    },
    count: units.length,
  };
}
