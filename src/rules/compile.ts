import { compileCondition, conditionFields, ConditionError, type Predicate } from './conditions.js';
import type { Channel } from '../alerts/model.js';
import { Rule, type ConditionField, type ConditionSpec, type Library, type RuleSpec } from './schema.js';
import { TEMPLATE_VARIABLES, templateNames } from './wording.js';

/**
 * A validated rule ready to run: `forRegion` gives the rule with the
 * parameters in force for a company's region (from the policy map: the
 * longest prefix that places the rule wins) and its conditions compiled, or
 * null where the rule is not in force.
 */
export interface CompiledRule {
  spec: RuleSpec;
  file: string;
  /** Where the rule holds (null: everywhere, for a rule directory without a policy map). */
  placement: readonly Placement[] | null;
  forRegion(region: string): ResolvedRule | null;
}

/** A prefix of the policy map that puts the rule in force, with the parameters merged there. */
export interface Placement {
  prefix: string;
  params: Record<string, unknown>;
}

export interface ResolvedRule {
  spec: RuleSpec;
  params: Record<string, unknown>;
  /** The compiled predicate of a condition of `spec`. */
  when(condition: ConditionSpec): Predicate;
  /** The event types a condition can match (null: any), to read no more than needed; the same array each time: do not change it. */
  types(condition: ConditionSpec): string[] | null;
  /** The event fields its conditions test (a backtest reads these beside what the engine and its kind read). */
  conditionFields: ReadonlySet<ConditionField>;
}

const PARAM_REF = /^(-?)\$([a-z][a-z0-9_]*)$/;

interface PathProblem {
  path: (string | number)[];
  message: string;
}

type Compiled = { ok: true; rule: CompiledRule } | { ok: false; problems: PathProblem[] };

export function compileRule(spec: RuleSpec, library: Library, file: string, placement: readonly Placement[] | null = null): Compiled {
  const problems = [
    ...checkReferences(spec),
    ...checkParamValues(spec.params, ['params']),
    ...checkWording(spec),
    ...checkDayRanges(spec.params, ['params']),
    ...checkDayRanges(spec.detect, ['detect']),
  ];
  if (problems.length > 0) return { ok: false, problems };

  const resolved = new Map<string, ResolvedRule>();
  // A rule no region has adopted yet is still checked with its defaults: its mistakes show now, not on adoption.
  if (placement?.length === 0) {
    const checked = resolve(spec, library, '', spec.params);
    if ('problems' in checked) return { ok: false, problems: checked.problems };
  }
  for (const { prefix, params } of placement ?? [{ prefix: '', params: {} }]) {
    const result = resolve(spec, library, prefix, { ...spec.params, ...params });
    if ('problems' in result) return { ok: false, problems: result.problems };
    resolved.set(prefix, result);
  }
  const byLength = [...resolved.keys()].sort((a, b) => b.length - a.length);
  return {
    ok: true,
    rule: {
      spec,
      file,
      placement,
      forRegion: (region) => {
        const prefix = byLength.find((p) => region.startsWith(p));
        return prefix === undefined ? null : resolved.get(prefix)!;
      },
    },
  };
}

/** What the policy map may set for a rule: declared parameters, each shaped like its default. */
export function checkPlacedParams(spec: RuleSpec, params: Record<string, unknown>, path: (string | number)[]): PathProblem[] {
  const problems: PathProblem[] = [];
  const shape = (v: unknown) => (Array.isArray(v) ? 'list' : typeof v);
  for (const [name, value] of Object.entries(params)) {
    if (!(name in spec.params)) problems.push({ path: [...path, name], message: `sets parameter ${name}, which rule ${spec.id} does not declare` });
    else if (shape(value) !== shape(spec.params[name])) {
      problems.push({ path: [...path, name], message: `must be a ${shape(spec.params[name])} like the default of ${spec.id}, got a ${shape(value)}` });
    }
  }
  return [...problems, ...checkParamValues(params, path), ...checkDayRanges(params, path)];
}

function resolve(spec: RuleSpec, library: Library, prefix: string, params: Record<string, unknown>): ResolvedRule | { problems: PathProblem[] } {
  const substituted = substitute(spec, params) as RuleSpec;
  const where = prefix ? ` (with the parameters of region ${prefix})` : '';
  const checked = Rule.safeParse(substituted);
  if (!checked.success) {
    return { problems: checked.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message + where })) };
  }
  const cache = new WeakMap<object, Predicate>();
  const when = (condition: ConditionSpec) => {
    let predicate = cache.get(condition);
    if (!predicate) cache.set(condition, (predicate = compileCondition(condition, library)));
    return predicate;
  };
  let conditionPath: (string | number)[] = [];
  const fields = new Set<ConditionField>();
  try {
    forEachCondition(checked.data, (condition, path) => {
      conditionPath = path;
      when(condition);
      conditionFields(condition, library, fields);
    });
  } catch (err) {
    if (err instanceof ConditionError) return { problems: [{ path: [...conditionPath, ...err.path], message: err.message + where }] };
    throw err;
  }
  const typesCache = new WeakMap<object, string[] | null>();
  const types = (condition: ConditionSpec) => {
    let found = typesCache.get(condition);
    if (found === undefined) typesCache.set(condition, (found = typesOf(condition, library)));
    return found;
  };
  return { spec: checked.data, params, when, types, conditionFields: fields };
}

/**
 * Where a rule's alerts go with these parameters: its `channels`, or the list a `$parameter` names (the policy
 * map routes such a rule per region; a resolved rule's spec already holds the list).
 */
export function channelsOf(spec: RuleSpec, params: Record<string, unknown> = spec.params): Channel[] {
  if (Array.isArray(spec.channels)) return spec.channels;
  const ref = PARAM_REF.exec(spec.channels);
  return ref ? ((params[ref[2]!] ?? []) as Channel[]) : [];
}

/** Replaces `$name` strings in the detection parts with the parameter's value. */
function substitute(value: unknown, params: Record<string, unknown>, key = ''): unknown {
  if (key === 'title' || key === 'message' || key === 'params' || key === 'description') return value;
  const ref = typeof value === 'string' ? PARAM_REF.exec(value) : null;
  if (ref) {
    const resolved = params[ref[2]!];
    return ref[1] && typeof resolved === 'number' ? -resolved : resolved;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, k)]));
  }
  return value;
}

/** Every condition of a rule with its path in the file, so a problem in one points at it. */
function forEachCondition(spec: RuleSpec, visit: (c: ConditionSpec, path: (string | number)[]) => void): void {
  const d = spec.detect as Record<string, unknown>;
  for (const key of ['match', 'trigger', 'expect', 'whitelisted_expect', 'entry', 'exit', 'record', 'plan', 'not_counted']) if (d[key]) visit(d[key] as ConditionSpec, ['detect', key]);
  if (spec.kind === 'together') spec.detect.arrival.forEach((c, i) => visit(c, ['detect', 'arrival', i]));
  if (spec.kind === 'absence') {
    spec.detect.variants.forEach((v, i) => v.expect && visit(v.expect, ['detect', 'variants', i, 'expect']));
    spec.detect.direct.forEach((direct, i) => visit(direct.match, ['detect', 'direct', i, 'match']));
  }
  if ('exemptions' in spec) {
    spec.exemptions.forEach((e, i) => {
      visit(e.when, ['exemptions', i, 'when']);
      if (e.requires) visit(e.requires.expect, ['exemptions', i, 'requires', 'expect']);
    });
  }
}

function walk(value: unknown, path: (string | number)[], visit: (v: unknown, path: (string | number)[]) => void): void {
  visit(value, path);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], visit));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k], visit);
}

function checkReferences(spec: RuleSpec): PathProblem[] {
  const problems: PathProblem[] = [];
  const scan = (root: 'detect' | 'exemptions') => walk((spec as Record<string, unknown>)[root], [root], (v, path) => {
    const ref = typeof v === 'string' ? PARAM_REF.exec(v) : null;
    if (ref && !(ref[2]! in spec.params)) problems.push({ path, message: `refers to parameter $${ref[2]}, which params does not declare` });
  });
  scan('detect');
  if ('exemptions' in spec) scan('exemptions');
  const channels = typeof spec.channels === 'string' ? PARAM_REF.exec(spec.channels) : null;
  if (channels && !(channels[2]! in spec.params)) problems.push({ path: ['channels'], message: `refers to parameter $${channels[2]}, which params does not declare` });
  return problems;
}

/** Parameters are substituted once: a value that is itself a $reference would reach the engine unresolved. */
function checkParamValues(params: Record<string, unknown>, path: (string | number)[]): PathProblem[] {
  const problems: PathProblem[] = [];
  walk(params, path, (v, at) => {
    if (typeof v === 'string' && PARAM_REF.test(v)) problems.push({ path: at, message: `must be a value, not a reference to a parameter (${v})` });
  });
  return problems;
}

function checkWording(spec: RuleSpec): PathProblem[] {
  const allowed = new Set([...TEMPLATE_VARIABLES.common, ...TEMPLATE_VARIABLES[spec.kind], ...Object.keys(spec.params)]);
  const problems: PathProblem[] = [];
  walk(spec, [], (v, path) => {
    const last = path.at(-2);
    if (typeof v !== 'string' || (last !== 'title' && last !== 'message')) return;
    for (const name of templateNames(v)) {
      if (!allowed.has(name)) problems.push({ path, message: `unknown placeholder {{${name}}}; known: ${[...allowed].sort().join(', ')}` });
    }
  });
  return problems;
}

function checkDayRanges(value: unknown, path: (string | number)[]): PathProblem[] {
  const problems: PathProblem[] = [];
  const check = (v: unknown, path: (string | number)[]) => {
    const m = typeof v === 'string' ? /^(-?\d+)\.\.(-?\d+)$/.exec(v) : null;
    if (!m) return;
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (a === 0 || b === 0 || Math.sign(a) !== Math.sign(b) || a > b || Math.abs(a) > 31 || Math.abs(b) > 31) {
      problems.push({ path, message: `"${v}" must run upwards between two days of the same sign, e.g. 21..31 or -10..-1` });
    }
  };
  walk(value, path, check);
  return problems;
}

function typesOf(condition: ConditionSpec, library: Library): string[] | null {
  const t = condition.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.map(String);
  if (t && typeof t === 'object' && 'in_list' in t) return (library.lists[t.in_list] ?? []).map(String);
  if (t !== undefined) return null;
  for (const name of [condition.use ?? []].flat()) {
    const types = library.macros[name] ? typesOf(library.macros[name], library) : null;
    if (types) return types;
  }
  return null;
}
