import { createHash } from 'node:crypto';
import { SEVERITIES, type AlertCandidate, type AlertMode, type Evidence, type Figures, type Localized, type Severity } from '../alerts/model.js';
import type { CompanyFacts, EngineEvent } from './events.js';
import { channelsOf, type ResolvedRule } from './compile.js';
import { readableTime, render } from './wording.js';

/**
 * What a rule kind concludes before wording: a correlation key, the instant
 * the alert is anchored at, the evidence and the figures. Findings with the
 * same fingerprint (rule, key, anchor) merge into one alert.
 */
export interface Finding {
  key: string[];
  anchor: number;
  windowStart: number;
  windowEnd: number;
  variant: string;
  severity?: Severity;
  /** Overrides the rule's mode (an exempted entry listed for review is a `record`). */
  mode?: AlertMode;
  wording?: { title?: Localized; message?: Localized };
  evidence: Array<{ event: EngineEvent; role: string; visit?: number }>;
  figures: Figures;
  /** Figures that name agencies: each entry is the agency's name (from naming) followed by its text, joined with 、. */
  agencyFigures?: Record<string, Array<{ agency_id: string; text: string }>>;
  count: number;
}

export interface Verdict {
  findings: Finding[];
  /** Decisions that must wait for late events: decide the trigger at `anchor` again at instant `at` (epoch ms). */
  pending: Array<{ at: number; anchor: number }>;
}

export interface Naming {
  agencyName(agencyId: string): string;
}

export const fingerprint = (ruleId: string, key: string[], anchor: number) =>
  createHash('sha256').update(`${ruleId}\n${key.join('|')}\n${new Date(anchor).toISOString()}`).digest('hex').slice(0, 32);

const rank = (s: Severity) => SEVERITIES.indexOf(s);

export function toCandidates(rule: ResolvedRule, company: CompanyFacts, findings: Finding[], naming: Naming): AlertCandidate[] {
  // By key and anchor, what the fingerprint hashes with the rule's id: one hash per alert, not per finding.
  const byKeyAndAnchor = new Map<string, Finding[]>();
  for (const f of findings) {
    const at = `${f.key.join('|')}\n${f.anchor}`;
    const same = byKeyAndAnchor.get(at);
    if (same) same.push(f);
    else byKeyAndAnchor.set(at, [f]);
  }
  return [...byKeyAndAnchor.values()].map((same) => {
    const f = same.length === 1 ? same[0]! : merge(same, rule);
    return candidate(fingerprint(rule.spec.id, f.key, f.anchor), rule, company, f, naming);
  });
}

/**
 * Findings of one fingerprint as one: the first of the strongest severity, over the span of all, with each event's
 * evidence from the first finding that names it. In one pass: folding them two at a time copied the evidence at each
 * step, the square of their number for a company's same-day check-ins.
 */
function merge(same: readonly Finding[], rule: ResolvedRule): Finding {
  let stronger = same[0]!;
  let windowStart = Infinity;
  let windowEnd = -Infinity;
  let count = 0;
  const evidence: Finding['evidence'] = [];
  const named = new Set<string>();
  for (const f of same) {
    if (rank(f.severity ?? rule.spec.severity) > rank(stronger.severity ?? rule.spec.severity)) stronger = f;
    windowStart = Math.min(windowStart, f.windowStart);
    windowEnd = Math.max(windowEnd, f.windowEnd);
    count += f.count;
    for (const e of f.evidence) if (!named.has(e.event.id)) evidence.push(e);
    for (const e of f.evidence) named.add(e.event.id);
  }
  return { ...stronger, windowStart, windowEnd, evidence, count };
}

function candidate(id: string, rule: ResolvedRule, company: CompanyFacts, f: Finding, naming: Naming): AlertCandidate {
  const { spec } = rule;
  const evidence = [...f.evidence].sort((x, y) => x.event.occurred_at - y.event.occurred_at || (x.event.id < y.event.id ? -1 : 1));
  const times = evidence.map((e) => e.event.occurred_at);
  const agencyId = f.key[1] ?? evidence.find((e) => e.event.agency_id)?.event.agency_id ?? '';
  const officers = [...new Set(evidence.flatMap((e) => e.event.officer_ids))].sort();
  // Who came when, by name: the kind knows agencies only by id.
  const figures: Figures = { ...f.figures };
  for (const [name, entries] of Object.entries(f.agencyFigures ?? {})) {
    figures[name] = entries.map((e) => `${naming.agencyName(e.agency_id)}${e.text}`).join('、');
  }
  // Object.assign, not `{ ...params, ...figures, more }`: V8's slow path for spreads followed by more properties cost
  // about 30 µs a candidate, against under 1 µs (docs/performance.md, 2026-12-06).
  const values = Object.assign({}, rule.params, figures, {
    enterprise_name: company.name,
    enterprise_id: company.enterprise_id,
    agency_name: agencyId ? naming.agencyName(agencyId) : '—',
    agency_id: agencyId,
    // A finding about two agencies (plan-overlap) names the other one too.
    other_agency_name: typeof f.figures.other_agency_id === 'string' ? naming.agencyName(f.figures.other_agency_id) : '—',
    region: company.region,
    count: f.count,
    first: readableTime(Math.min(...times)),
    last: readableTime(Math.max(...times)),
    window_start: readableTime(f.windowStart),
    window_end: readableTime(f.windowEnd),
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    fingerprint: id,
    rule_id: spec.id,
    rule_version: spec.version,
    variant: f.variant,
    severity: f.severity ?? spec.severity,
    mode: spec.mode === 'active' && f.mode ? f.mode : spec.mode,
    channels: channelsOf(spec, rule.params),
    title: render(f.wording?.title ?? spec.title, values),
    message: render(f.wording?.message ?? spec.message, values),
    region: company.region,
    enterprise_id: company.enterprise_id,
    agency_id: agencyId,
    officer_ids: officers,
    window_start: iso(f.windowStart),
    window_end: iso(f.windowEnd),
    anchor_at: iso(f.anchor),
    first_seen_at: iso(Math.min(...times)),
    last_seen_at: iso(Math.max(...times)),
    count: f.count,
    evidence: evidence.map((e): Evidence => ({
      event_id: e.event.id, type: e.event.type, occurred_at: iso(e.event.occurred_at), role: e.role, ...(e.visit ? { visit: e.visit } : {}),
    })),
    figures,
    params: rule.params,
  };
}
