import type { ResolvedRule } from '../compile.js';
import type { Verdict } from '../findings.js';
import { num } from '../offsets.js';
import { readableTime } from '../wording.js';
import type { Kind } from './types.js';

type Rule = Extract<ResolvedRule['spec'], { kind: 'score' }>;
const spec = (rule: ResolvedRule) => rule.spec as Rule;

/**
 * A company's score for a visit at or below the region's threshold (德州 scores visits out of 100 by SMS:
 * "他打了95分,属“十分满意”"). The region's levels name the score in the alert. One alert per evaluation.
 */
export const score: Kind = {
  reads: ['score'],
  evaluate(rule, input) {
    const { detect } = spec(rule);
    const verdict: Verdict = { findings: [], pending: [] };
    const matches = rule.when(detect.match);
    const threshold = num(detect.at_most);
    const levels = parseLevels(detect.levels as string[]);
    for (const event of input.events) {
      const at = event.occurred_at;
      if (!matches(event) || event.score === null || at < input.from || at > input.to || event.score > threshold) continue;
      verdict.findings.push({
        key: [event.enterprise_id, event.agency_id, event.id],
        anchor: at,
        windowStart: at,
        windowEnd: at,
        variant: '',
        evidence: [{ event, role: 'trigger' }],
        figures: { score: event.score, level: levelOf(levels, event.score), threshold, anchor: readableTime(at) },
        count: 1,
      });
    }
    return verdict;
  },
  decideRange: (_rule, t1, t2) => [t1, t2],
  context: (rule, from, to) => [{ types: rule.types(spec(rule).detect.match), from, to }],
};

/** "90:十分满意" → the name that holds from 90 up; highest first. */
function parseLevels(levels: readonly string[]): Array<{ from: number; name: string }> {
  return levels.map((l) => {
    const colon = l.indexOf(':');
    return { from: Number(l.slice(0, colon)), name: l.slice(colon + 1) };
  }).sort((a, b) => b.from - a.from);
}

const levelOf = (levels: Array<{ from: number; name: string }>, value: number) => levels.find((l) => value >= l.from)?.name ?? '—';
