import type { Severity, Localized } from '../../alerts/model.js';
import type { ResolvedRule } from '../compile.js';
import type { EngineEvent } from '../events.js';
import { readableTime } from '../wording.js';
import { reach, search, type ExpectationSpec } from './expectation.js';
import type { Offset } from '../schema.js';
import type { KindInput, Need } from './types.js';

export interface ExemptionSpec {
  id: string;
  enabled: boolean | string;
  lateness?: Offset;
  when: ExpectationSpec['expect'];
  requires?: ExpectationSpec;
  otherwise?: { variant: string; severity?: Severity; title?: Localized; message?: Localized };
  record?: { variant: string; severity?: Severity; title?: Localized; message?: Localized };
}

export type ExemptionOutcome =
  | { state: 'none' }
  | { state: 'exempt'; exemption: ExemptionSpec; filings: EngineEvent[] }
  | { state: 'pending'; deadline: number }
  | { state: 'unfiled'; exemption: ExemptionSpec; figures: Record<string, string> };

/**
 * Whether a trigger is covered by an exemption: the first whose `when`
 * matches decides. One that requires a filing (e.g. within 3 working days)
 * stays pending until its deadline; past it, a missing filing is a breach of
 * its own (the `otherwise` variant).
 */
export function exemptionFor(
  rule: ResolvedRule, exemptions: readonly ExemptionSpec[], trigger: EngineEvent, anchor: number,
  input: Pick<KindInput, 'accepted' | 'planVersions' | 'now'>, lateness?: Offset,
): ExemptionOutcome {
  const exemption = exemptions.find((e) => e.enabled === true && rule.when(e.when)(trigger));
  if (!exemption) return { state: 'none' };
  if (!exemption.requires) return { state: 'exempt', exemption, filings: [] };
  const found = search(rule, exemption.requires, trigger, anchor, input, exemption.lateness ?? lateness);
  if (found.state === 'found') return { state: 'exempt', exemption, filings: found.matches };
  if (found.state === 'pending') return found;
  return {
    state: 'unfiled',
    exemption,
    figures: { anchor: readableTime(anchor), exemption: exemption.id, urgent_reason: trigger.urgent_reason, deadline: readableTime(found.to) },
  };
}

/** The filings exemptions require, and the events needed to look for them around anchors in [from, to]. */
export function requirementNeeds(rule: ResolvedRule, exemptions: readonly ExemptionSpec[], from: number, to: number): Need[] {
  const requirements = requirementsOf(exemptions);
  const { before, after } = reach(requirements);
  return requirements.map((r) => ({ types: rule.types(r.expect), from: from - before, to: to + after }));
}

export const requirementsOf = (exemptions: readonly ExemptionSpec[]): ExpectationSpec[] =>
  exemptions.flatMap((e) => (e.requires ? [e.requires] : []));
