import { compileCondition, ConditionError, type Predicate } from './conditions.js';
import { Rule, type ConditionSpec, type Library, type RuleSpec } from './schema.js';
import { TEMPLATE_VARIABLES, templateNames } from './wording.js';

/**
 * A validated rule ready to run: `forRegion` gives the rule with the
 * parameters in force for a company's region (the longest matching override
 * prefix wins) and its conditions compiled.
 */
export interface CompiledRule {
  spec: RuleSpec;
  file: string;
  forRegion(region: string): ResolvedRule;
}

export interface ResolvedRule {
  spec: RuleSpec;
  params: Record<string, unknown>;
  /** The compiled predicate of a condition of `spec`. */
  when(condition: ConditionSpec): Predicate;
  /** The event types a condition can match (null: any), to read no more than needed. */
  types(condition: ConditionSpec): string[] | null;
}

const PARAM_REF = /^(-?)\$([a-z][a-z0-9_]*)$/;

interface PathProblem {
  path: (string | number)[];
  message: string;
}

type Compiled = { ok: true; rule: CompiledRule } | { ok: false; problems: PathProblem[] };

export function compileRule(spec: RuleSpec, library: Library, file: string): Compiled {
  const problems = [
    ...checkReferences(spec),
    ...checkParamValues(spec),
    ...checkOverrides(spec),
    ...checkWording(spec),
    ...checkDayRanges(spec),
  ];
  if (problems.length > 0) return { ok: false, problems };

  const resolved = new Map<string, ResolvedRule>();
  const prefixes = ['', ...spec.overrides.map((o) => o.region)];
  for (const prefix of new Set(prefixes)) {
    const result = resolve(spec, library, prefix);
    if ('problems' in result) return { ok: false, problems: result.problems };
    resolved.set(prefix, result);
  }
  const byLength = [...resolved.keys()].sort((a, b) => b.length - a.length);
  return {
    ok: true,
    rule: {
      spec,
      file,
      forRegion: (region) => resolved.get(byLength.find((p) => region.startsWith(p)) ?? '')!,
    },
  };
}

function paramsFor(spec: RuleSpec, prefix: string): Record<string, unknown> {
  const params = { ...spec.params };
  const matching = spec.overrides.filter((o) => prefix.startsWith(o.region)).sort((a, b) => a.region.length - b.region.length);
  for (const o of matching) Object.assign(params, o.params);
  return params;
}

function resolve(spec: RuleSpec, library: Library, prefix: string): ResolvedRule | { problems: PathProblem[] } {
  const params = paramsFor(spec, prefix);
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
  try {
    forEachCondition(checked.data, (condition, path) => {
      conditionPath = path;
      when(condition);
    });
  } catch (err) {
    if (err instanceof ConditionError) return { problems: [{ path: [...conditionPath, ...err.path], message: err.message + where }] };
    throw err;
  }
  return { spec: checked.data, params, when, types: (condition) => typesOf(condition, library) };
}

/** Replaces `$name` strings in the detection parts with the parameter's value. */
function substitute(value: unknown, params: Record<string, unknown>, key = ''): unknown {
  if (key === 'title' || key === 'message' || key === 'params' || key === 'overrides' || key === 'description') return value;
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
  for (const key of ['match', 'trigger', 'expect']) if (d[key]) visit(d[key] as ConditionSpec, ['detect', key]);
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
  return problems;
}

/** Parameters are substituted once: a value that is itself a $reference would reach the engine unresolved. */
function checkParamValues(spec: RuleSpec): PathProblem[] {
  const problems: PathProblem[] = [];
  const check = (params: Record<string, unknown>, path: (string | number)[]) => walk(params, path, (v, at) => {
    if (typeof v === 'string' && PARAM_REF.test(v)) problems.push({ path: at, message: `must be a value, not a reference to a parameter (${v})` });
  });
  check(spec.params, ['params']);
  spec.overrides.forEach((o, i) => check(o.params, ['overrides', i, 'params']));
  return problems;
}

function checkOverrides(spec: RuleSpec): PathProblem[] {
  const problems: PathProblem[] = [];
  const shape = (v: unknown) => (Array.isArray(v) ? 'list' : typeof v);
  spec.overrides.forEach((o, i) => {
    for (const [name, value] of Object.entries(o.params)) {
      const path = ['overrides', i, 'params', name];
      if (!(name in spec.params)) problems.push({ path, message: `overrides parameter ${name}, which params does not declare` });
      else if (shape(value) !== shape(spec.params[name])) {
        problems.push({ path, message: `must be a ${shape(spec.params[name])} like the default, got a ${shape(value)}` });
      }
    }
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

function checkDayRanges(spec: RuleSpec): PathProblem[] {
  const problems: PathProblem[] = [];
  const check = (v: unknown, path: (string | number)[]) => {
    const m = typeof v === 'string' ? /^(-?\d+)\.\.(-?\d+)$/.exec(v) : null;
    if (!m) return;
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (a === 0 || b === 0 || Math.sign(a) !== Math.sign(b) || a > b || Math.abs(a) > 31 || Math.abs(b) > 31) {
      problems.push({ path, message: `"${v}" must run upwards between two days of the same sign, e.g. 21..31 or -10..-1` });
    }
  };
  walk(spec.params, ['params'], check);
  walk(spec.overrides, ['overrides'], check);
  walk(spec.detect, ['detect'], check);
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
