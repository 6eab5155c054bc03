import { z } from 'zod';

/**
 * The policy map (rules/regions.yaml): which rule is in force where, and with
 * which parameters. Each entry is a division-code prefix with the document
 * that makes its rules hold there. A region is governed by every entry whose
 * prefix it starts with: the rules in force are their union, and parameters
 * set by a longer prefix override a shorter one's (云和 331125 keeps 丽水
 * 3311's quiet period and sets its own days). A region no entry covers has no
 * rule in force at all.
 */
export const POLICY_MAP_FILE = 'regions.yaml';

const Source = z.object({
  document: z.string().min(1).describe('file name in policy-sources'),
  clause: z.string().min(1).describe('the clause, quoted verbatim'),
}).strict();

const ParamValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.union([z.number(), z.string()]))]);

/**
 * Where complaints about a region's companies go: `hotline`, a 12345 ticket
 * (the default); `feed`, an alert in the live feed that the discipline
 * commission and the justice bureau watch (the rule COMPLAINT_RULE, which the
 * map puts in force wherever complaints go to the feed).
 */
export const COMPLAINT_DESTINATIONS = ['hotline', 'feed'] as const;
export type ComplaintDestination = (typeof COMPLAINT_DESTINATIONS)[number];
export const COMPLAINT_RULE = 'complaint-received';

/** Shown to people (the console's 规则适用): Chinese first, English beside it. */
const Note = z.object({ zh: z.string().min(1, 'Chinese text is required'), en: z.string().min(1, 'English text is required') }).strict();

const RuleInForce = z.object({
  source: Source.optional().describe("the clause that puts this rule in force here (the region's own when omitted)"),
  reading: Note.optional().describe('how the document is read here, where it could be read otherwise'),
  local_choice: Note.optional().describe('a figure the document leaves open, chosen here, and why'),
  params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), ParamValue).default({}),
}).strict();

export const PolicyRegion = z.object({
  prefix: z.string().regex(/^\d{2,6}$/, 'must be a division-code prefix of 2 to 6 digits'),
  name: z.string().min(1),
  source: Source,
  complaints_to: z.array(z.enum(COMPLAINT_DESTINATIONS)).min(1).optional()
    .describe('who receives complaints about companies here: hotline (12345 tickets) and/or feed (inherited from a shorter prefix; default: hotline)'),
  rules: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.union([RuleInForce, z.null()]).transform((r) => r ?? RuleInForce.parse({})))
    .default({}),
}).strict();
export type PolicyRegion = z.infer<typeof PolicyRegion>;

export const PolicyMapFile = z.object({
  regions: z.array(PolicyRegion).min(1, 'needs at least one region'),
}).strict().superRefine((map, ctx) => {
  const seen = new Map<string, number>();
  map.regions.forEach((r, i) => {
    if (seen.has(r.prefix)) ctx.addIssue({ code: 'custom', path: ['regions', i, 'prefix'], message: `prefix ${r.prefix} is also listed at regions.${seen.get(r.prefix)}` });
    seen.set(r.prefix, i);
  });
});
export type PolicyMapFile = z.infer<typeof PolicyMapFile>;

/** The rules in force in one region, with parameters merged from the shortest to the longest prefix. */
export interface RegionPolicy {
  /** The entries that govern the region, shortest prefix first. */
  entries: PolicyRegion[];
  rules: Map<string, Record<string, unknown>>;
  complaintsTo: readonly ComplaintDestination[];
}

export interface PolicyMap {
  regions: readonly PolicyRegion[];
  /** The policy of a company's region (its 6-digit code). */
  forRegion(region: string): RegionPolicy;
  /** Every prefix that sets something for this rule, with the parameters in force there. */
  prefixesOf(ruleId: string): Array<{ prefix: string; params: Record<string, unknown> }>;
}

export function policyMap(file: PolicyMapFile): PolicyMap {
  const byLength = [...file.regions].sort((a, b) => a.prefix.length - b.prefix.length);
  const cache = new Map<string, RegionPolicy>();
  const forRegion = (region: string): RegionPolicy => {
    const hit = cache.get(region);
    if (hit) return hit;
    const entries = byLength.filter((r) => region.startsWith(r.prefix));
    const rules = new Map<string, Record<string, unknown>>();
    let complaintsTo: RegionPolicy['complaintsTo'] = ['hotline'];
    for (const entry of entries) {
      for (const [id, inForce] of Object.entries(entry.rules)) rules.set(id, { ...rules.get(id), ...inForce.params });
      if (entry.complaints_to) complaintsTo = entry.complaints_to;
    }
    if (complaintsTo.includes('feed') && !rules.has(COMPLAINT_RULE)) rules.set(COMPLAINT_RULE, {});
    const policy = { entries, rules, complaintsTo };
    cache.set(region, policy);
    return policy;
  };
  return {
    regions: file.regions,
    forRegion,
    prefixesOf: (ruleId) => byLength
      .filter((r) => forRegion(r.prefix).rules.has(ruleId))
      .map((r) => ({ prefix: r.prefix, params: forRegion(r.prefix).rules.get(ruleId)! })),
  };
}

export function policyMapJsonSchema(): object {
  return { title: 'Qingjian policy map: which rule holds where', ...z.toJSONSchema(PolicyMapFile, { io: 'input', unrepresentable: 'any' }) };
}
