import { DAY, addDays, calendarDate, midnight, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { ConditionSpec } from '../schema.js';
import type { EngineEvent } from '../events.js';
import type { Finding, Verdict } from '../findings.js';
import { readableTime } from '../wording.js';
import { exemptionFor, requirementsOf, type ExemptionOutcome } from './exemptions.js';
import { reach, search, type ExpectationSpec } from './expectation.js';
import type { Kind, KindInput, Need } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'absence' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/** Records are filed after the visit they describe; this is how much later we still look for them. */
const RECORD_LAG = 30 * DAY;

/**
 * A trigger (e.g. an on-site inspection record) with no expected event
 * (a QR check-in by the same agency) in a span around its anchor. Weaker
 * matches raise variants; exemptions may waive or defer the decision; direct
 * events (a no-scan complaint) are breaches by themselves. Alerts are per
 * company, agency and day: several triggers of one visit make one alert.
 */
export const absence: Kind = {
  evaluate(rule, input) {
    const { detect } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    const isTrigger = rule.when(detect.trigger);
    for (const trigger of input.events) {
      const anchor = anchorOf(rule, trigger);
      if (!isTrigger(trigger) || anchor < input.from || anchor > input.to) continue;
      decide(rule, trigger, anchor, input, verdict);
    }
    for (const direct of detect.direct) {
      const matches = rule.when(direct.match);
      for (const event of input.events) {
        if (!matches(event) || event.occurred_at < input.from || event.occurred_at > input.to) continue;
        verdict.findings.push(dayFinding(event, event.occurred_at, {
          variant: direct.variant, severity: direct.severity, wording: direct, figures: { anchor: readableTime(event.occurred_at) },
        }));
      }
    }
    return verdict;
  },
  decideRange(rule, t1, t2, types) {
    const { before, after } = reach(expectations(rule).filter((e) => mayMatch(rule, e.expect, types)));
    return [startOfDay(t1 - after), startOfDay(t2 + before) + DAY - 1];
  },
  context(rule, from, to) {
    const { detect } = spec(rule);
    const { before, after } = reach(expectations(rule));
    const needs: Need[] = [{ types: rule.types(detect.trigger), from, to: to + RECORD_LAG }];
    for (const e of expectations(rule)) needs.push({ types: rule.types(e.expect), from: from - before, to: to + after });
    for (const d of detect.direct) needs.push({ types: rule.types(d.match), from, to });
    return needs;
  },
};

export const anchorOf = (rule: ResolvedRule, e: EngineEvent) =>
  spec(rule).detect.anchor === 'started_at' ? e.started_at ?? e.occurred_at : e.occurred_at;

function decide(rule: ResolvedRule, trigger: EngineEvent, anchor: number, input: KindInput, verdict: Verdict): void {
  const { detect, exemptions } = spec(rule);
  // An exemption (e.g. 烟台's green channel) is a way to be covered without the expected event: a trigger
  // that has the expected event needs none.
  const main = search(rule, expectationOf(detect, input.company.whitelisted), trigger, anchor, input, detect.lateness);
  if (main.state === 'found') return officersCheck(rule, trigger, anchor, main.matches, verdict);
  const exemption = exemptionFor(rule, exemptions, trigger, anchor, input, detect.lateness);
  if (exemption.state !== 'none') return applyExemption(exemption, trigger, anchor, verdict);

  if (main.state === 'pending') return void verdict.pending.push({ at: main.deadline, anchor });
  for (const variant of detect.variants) {
    const found = search(rule, expectationOf(detect, input.company.whitelisted, variant), trigger, anchor, input, detect.lateness);
    if (found.state === 'pending') return void verdict.pending.push({ at: found.deadline, anchor });
    if (found.state === 'found') {
      const weak = found.matches[0]!;
      verdict.findings.push(dayFinding(trigger, anchor, {
        variant: variant.id, severity: variant.severity, wording: variant,
        extra: found.matches.map((event) => ({ event, role: 'weak_match' })),
        figures: { ...searched(anchor, main.from, main.to), matched: weak.id, matched_at: readableTime(weak.occurred_at) },
      }));
      return;
    }
  }
  verdict.findings.push(dayFinding(trigger, anchor, { variant: '', figures: searched(anchor, main.from, main.to) }));
}

type Detect = Rule['detect'];

/**
 * What the detection (or one of its weaker variants) expects of a trigger. A white-list company's requirement (e.g.
 * reviewed by the justice bureau) holds for every match, variants included. One object per detection, variant and
 * white-list, made once: not one per trigger.
 */
const madeExpectations = new WeakMap<object, { plain?: ExpectationSpec; whitelisted?: ExpectationSpec }>();

function expectationOf(detect: Detect, whitelisted: boolean, variant?: Detect['variants'][number]): ExpectationSpec {
  const key = variant ?? detect;
  let made = madeExpectations.get(key);
  if (!made) madeExpectations.set(key, (made = {}));
  const requirement = whitelisted ? detect.whitelisted_expect : undefined;
  const expect = variant?.expect ?? detect.expect;
  return (made[requirement ? 'whitelisted' : 'plain'] ??= {
    expect: requirement ? withRequirement(expect, requirement) : expect,
    correlate: variant?.correlate ?? detect.correlate,
    within: variant?.within ?? detect.within,
    self_match: detect.self_match,
  });
}

// One object per condition and requirement, so that the rule compiles it once (`rule.when` remembers conditions by identity).
const combined = new WeakMap<ConditionSpec, WeakMap<ConditionSpec, ConditionSpec>>();

function withRequirement(expect: ConditionSpec, extra: ConditionSpec): ConditionSpec {
  const byExtra = combined.get(expect) ?? new WeakMap<ConditionSpec, ConditionSpec>();
  combined.set(expect, byExtra);
  let both = byExtra.get(extra);
  if (!both) byExtra.set(extra, (both = { ...expect, ...extra, use: [expect.use ?? [], extra.use ?? []].flat() }));
  return both;
}

/** Every officer the trigger names must be on a matching event (each officer scans in for himself). */
function officersCheck(rule: ResolvedRule, trigger: EngineEvent, anchor: number, matches: EngineEvent[], verdict: Verdict): void {
  const every = spec(rule).detect.every_officer;
  if (!every) return;
  const seen = new Set(matches.flatMap((m) => m.officer_ids));
  const missing = trigger.officer_ids.filter((o) => !seen.has(o));
  if (missing.length === 0) return;
  verdict.findings.push(dayFinding(trigger, anchor, {
    variant: every.id, severity: every.severity, wording: every,
    extra: matches.map((event) => ({ event, role: 'partial_match' })),
    figures: { anchor: readableTime(anchor), missing_officers: missing.join('、'), missing_count: missing.length },
  }));
}

/** Shared with the calendar kind: what an exemption outcome adds to the verdict. */
export function applyExemption(outcome: ExemptionOutcome, trigger: EngineEvent, anchor: number, verdict: Verdict): void {
  if (outcome.state === 'pending') verdict.pending.push({ at: outcome.deadline, anchor });
  if (outcome.state === 'exempt' && outcome.exemption.record) {
    const record = outcome.exemption.record;
    const finding = dayFinding(trigger, anchor, {
      variant: record.variant, severity: record.severity, wording: record,
      extra: outcome.filings.map((event) => ({ event, role: 'filing' })),
      figures: { anchor: readableTime(anchor), exemption: outcome.exemption.id, urgent_reason: trigger.urgent_reason },
    });
    // Its own alert (fingerprint) beside any breach of the same company, agency and day.
    verdict.findings.push({ ...finding, key: [...finding.key, record.variant], mode: 'record' });
  }
  if (outcome.state !== 'unfiled') return;
  const otherwise = outcome.exemption.otherwise;
  verdict.findings.push(dayFinding(trigger, anchor, {
    variant: otherwise?.variant ?? outcome.exemption.id, severity: otherwise?.severity, wording: otherwise, figures: outcome.figures,
  }));
}

const searched = (anchor: number, from: number, to: number) => ({
  anchor: readableTime(anchor),
  searched_from: Number.isFinite(from) ? readableTime(from) : '—',
  searched_to: Number.isFinite(to) ? readableTime(to) : '—',
});

export function dayFinding(
  trigger: EngineEvent, anchor: number,
  o: { variant: string; severity?: Finding['severity']; wording?: Finding['wording']; figures: Finding['figures']; extra?: Finding['evidence'] },
): Finding {
  const day = midnight(calendarDate(anchor));
  return {
    key: [trigger.enterprise_id, trigger.agency_id],
    anchor: day,
    windowStart: day,
    windowEnd: midnight(addDays(calendarDate(anchor), 1)) - 1,
    variant: o.variant,
    severity: o.severity,
    wording: o.wording ? { title: o.wording.title, message: o.wording.message } : undefined,
    evidence: [{ event: trigger, role: 'trigger' }, ...(o.extra ?? [])],
    figures: o.figures,
    count: 1,
  };
}

function expectations(rule: ResolvedRule): ExpectationSpec[] {
  const { detect, exemptions } = spec(rule);
  return [
    detect,
    ...detect.variants.map((v) => ({ expect: v.expect ?? detect.expect, correlate: v.correlate ?? detect.correlate, within: v.within ?? detect.within, self_match: detect.self_match })),
    ...requirementsOf(exemptions),
  ];
}

/** Whether events of these types (unknown: any) can be what an expectation looks for. */
export function mayMatch(rule: ResolvedRule, expect: ExpectationSpec['expect'], types: readonly string[] | undefined): boolean {
  const expected = rule.types(expect);
  return !types || !expected || expected.some((t) => types.includes(t));
}
