import { DAY, calendarDate, dayOfMonth, isWorkingDay, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { CompanyFacts } from '../events.js';
import type { COMPANY_DATES } from '../schema.js';
import type { Verdict } from '../findings.js';
import { readableTime } from '../wording.js';
import { applyExemption, dayFinding, mayMatch } from './absence.js';
import { reach } from './expectation.js';
import { exemptionFor, requirementNeeds, requirementsOf } from './exemptions.js';
import { lookup, type Lookup } from './lookup.js';
import type { Kind, KindInput } from './types.js';
import { timeOf } from './visits.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'calendar' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * A matching event on a day inside a period defined by days of the month
 * (negatives count from the end), optionally only working or non-working
 * days; per credit grade, and per company when it has its own. Exemptions
 * (urgent reasons with a filing within N working days) waive it. A period may
 * instead start at a date of the company's own (`since: deregistered_on`).
 */
export const calendar: Kind = {
  evaluate(rule, input) {
    const { detect, exemptions } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    if ('since' in detect.period) return sinceCompanyDate(rule, detect.period.since, input, verdict);
    const days = periodDays(rule, input.company);
    if (!days) return verdict;
    const matches = rule.when(detect.match);
    for (const event of input.events) {
      const at = timeOf(event);
      if (!matches(event) || at < input.from || at > input.to || !inPeriod(rule, days, at)) continue;
      const exemption = exemptionFor(rule, exemptions, event, at, input);
      if (exemption.state !== 'none') {
        applyExemption(exemption, event, at, verdict);
        continue;
      }
      verdict.findings.push(dayFinding(event, at, {
        variant: '', figures: { day: calendarDate(at), period_days: describe(days), anchor: readableTime(at) },
      }));
    }
    return verdict;
  },
  decideRange(rule, t1, t2, types) {
    const { before, after } = reach(requirementsOf(spec(rule).exemptions).filter((e) => mayMatch(rule, e.expect, types)));
    return [startOfDay(t1 - after), startOfDay(t2 + before) + DAY - 1];
  },
  context(rule, from, to) {
    const { detect, exemptions } = spec(rule);
    return [{ types: rule.types(detect.match), from, to }, ...requirementNeeds(rule, exemptions, from, to)];
  },
};

/**
 * Every matching event on or after a date of the company's own (已注销: its deregistration day), one alert per
 * company, agency and day; the day itself counts. A company without the date (active) has no such days.
 */
function sinceCompanyDate(rule: ResolvedRule, field: (typeof COMPANY_DATES)[number], input: KindInput, verdict: Verdict): Verdict {
  const since = input.company[field];
  if (!since) return verdict;
  const { detect, exemptions } = spec(rule);
  const matches = rule.when(detect.match);
  for (const event of input.events) {
    const at = timeOf(event);
    if (!matches(event) || at < input.from || at > input.to || calendarDate(at) < since) continue;
    const exemption = exemptionFor(rule, exemptions, event, at, input);
    if (exemption.state !== 'none') {
      applyExemption(exemption, event, at, verdict);
      continue;
    }
    verdict.findings.push(dayFinding(event, at, {
      variant: '', figures: { day: calendarDate(at), since, anchor: readableTime(at), officers: event.officer_ids.join('、') },
    }));
  }
  return verdict;
}

export function periodDays(rule: ResolvedRule, company: CompanyFacts): number[] | null {
  const { period } = spec(rule).detect;
  if (!('days_of_month' in period)) return null;
  if (period.company_override && company.quiet_days) return company.quiet_days;
  const source = period.days_of_month;
  const days = Array.isArray(source) ? source : lookup(source as Lookup<Array<number | string>>, company);
  return days ? expand(days as Array<number | string>) : null;
}

export function inPeriod(rule: ResolvedRule, days: number[], at: number): boolean {
  const { fromStart, fromEnd } = dayOfMonth(at);
  if (!days.includes(fromStart) && !days.includes(fromEnd)) return false;
  const { period } = spec(rule).detect;
  const filter = 'days' in period ? period.days : 'any';
  return filter === 'any' || isWorkingDay(calendarDate(at)) === (filter === 'working');
}

/** [-10..-1] → [-10, -9, …, -1]; plain days stay. Once per list of the rule set: every company of a grade shares it. */
export function expand(days: ReadonlyArray<number | string>): number[] {
  let expanded = expansions.get(days);
  if (expanded === undefined) {
    expanded = days.flatMap((d) => {
      if (typeof d === 'number') return [d];
      const [a, b] = d.split('..').map(Number) as [number, number];
      return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
    expansions.set(days, expanded);
  }
  return expanded;
}
const expansions = new WeakMap<ReadonlyArray<number | string>, number[]>();

function describe(days: number[]): string {
  const sorted = [...days].sort((a, b) => a - b);
  const contiguous = sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
  return contiguous && sorted.length > 1 ? `${sorted[0]}..${sorted.at(-1)}` : sorted.join(',');
}
