import { DAY, startOfDay } from '../../calendar/index.js';
import type { ResolvedRule } from '../compile.js';
import type { Verdict } from '../findings.js';
import { readableTime } from '../wording.js';
import { dayFinding, mayMatch } from './absence.js';
import { reach } from './expectation.js';
import { search, type ExpectationSpec } from './expectation.js';
import type { Kind, Need } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'presence' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/** Records are filed after the visit they describe; this is how much later we still look for them (as in absence). */
const RECORD_LAG = 30 * DAY;

/**
 * The reverse of `absence`: a trigger with a matching event around it is the breach, and the events found are
 * its evidence (云和: an on-site visit after the agency's own off-site check of the same matter found nothing).
 * Alerts are per company, agency and day. An event that arrives late and matches raises the alert when it
 * arrives, so nothing waits.
 */
export const presence: Kind = {
  evaluate(rule, input) {
    const { detect } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    const isTrigger = rule.when(detect.trigger);
    for (const trigger of input.events) {
      const anchor = detect.anchor === 'started_at' ? trigger.started_at ?? trigger.occurred_at : trigger.occurred_at;
      if (!isTrigger(trigger) || anchor < input.from || anchor > input.to) continue;
      const found = search(rule, detect, trigger, anchor, input, detect.lateness);
      if (found.state !== 'found') continue;
      const latest = found.matches.at(-1)!;
      verdict.findings.push(dayFinding(trigger, anchor, {
        variant: '',
        extra: found.matches.map((event) => ({ event, role: 'precedent' })),
        figures: { anchor: readableTime(anchor), matched: latest.id, matched_at: readableTime(latest.occurred_at) },
      }));
    }
    return verdict;
  },
  decideRange(rule, t1, t2, types) {
    const { detect } = spec(rule);
    const { before, after } = reach([detect as ExpectationSpec].filter((e) => mayMatch(rule, e.expect, types)));
    return [startOfDay(t1 - after), startOfDay(t2 + before) + DAY - 1];
  },
  context(rule, from, to) {
    const { detect } = spec(rule);
    const { before, after } = reach([detect as ExpectationSpec]);
    const needs: Need[] = [
      { types: rule.types(detect.trigger), from, to: to + RECORD_LAG },
      { types: rule.types(detect.expect), from: from - before, to: to + after },
    ];
    return needs;
  },
};
