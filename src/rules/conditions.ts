import type { EngineEvent } from './events.js';
import { CONDITION_FIELDS, type ConditionField, type ConditionSpec, type Matcher } from './schema.js';
import type { Library } from './schema.js';

export type Predicate = (event: EngineEvent) => boolean;

export class ConditionError extends Error {
  constructor(message: string, readonly path: (string | number)[]) {
    super(message);
  }
}

/**
 * Macros may use macros; a library where each uses the previous one twice
 * would expand exponentially (hanging the loader and every evaluation), so a
 * condition may expand to at most this many macro uses.
 */
export const MAX_MACRO_USES = 1000;

/** Compiles a condition (macros expanded, lists resolved) into a predicate; every field must match. */
export function compileCondition(spec: ConditionSpec, library: Library, seen: string[] = [], budget = { left: MAX_MACRO_USES }): Predicate {
  // A mistake inside a macro is reported at the `use` that reached it, naming the chain of macros.
  const inMacro = (message: string, path: (string | number)[]) =>
    (seen.length > 0 ? new ConditionError(`${message} (in macro ${seen.join(' → ')})`, ['use']) : new ConditionError(message, path));
  const tests: Predicate[] = [];
  for (const name of [spec.use ?? []].flat()) {
    const macro = library.macros[name];
    if (!macro) throw inMacro(`unknown macro "${name}"`, ['use']);
    if (seen.includes(name)) throw new ConditionError(`macro "${name}" uses itself (${[...seen, name].join(' → ')})`, ['use']);
    if (--budget.left < 0) throw new ConditionError(`expands to more than ${MAX_MACRO_USES} macro uses`, ['use']);
    tests.push(compileCondition(macro, library, [...seen, name], budget));
  }
  if (spec.any_of) {
    const branches = spec.any_of.map((branch, i) => {
      try {
        return compileCondition(branch, library, seen, budget);
      } catch (err) {
        throw err instanceof ConditionError && seen.length === 0 ? new ConditionError(err.message, ['any_of', i, ...err.path]) : err;
      }
    });
    tests.push((event) => {
      for (const test of branches) if (test(event)) return true;
      return false;
    });
  }
  for (const field of CONDITION_FIELDS) {
    const matcher = spec[field];
    if (matcher === undefined) continue;
    try {
      tests.push(fieldTest(field, matcher, library));
    } catch (err) {
      throw err instanceof ConditionError ? inMacro(err.message, err.path) : err;
    }
  }
  // Loops, not `every`/`some` with a closure: predicates run for every event of every trigger.
  return (event) => {
    for (const test of tests) if (!test(event)) return false;
    return true;
  };
}

function fieldTest(field: (typeof CONDITION_FIELDS)[number], matcher: Matcher, library: Library): Predicate {
  const value = (e: EngineEvent) => e[field] as string | boolean;
  if (Array.isArray(matcher)) return (e) => matcher.includes(value(e));
  if (typeof matcher !== 'object') return (e) => value(e) === matcher;
  if ('in_list' in matcher) {
    const list = library.lists[matcher.in_list];
    if (!list) throw new ConditionError(`unknown list "${matcher.in_list}"`, [field, 'in_list']);
    return (e) => list.includes(value(e));
  }
  if ('not' in matcher) {
    const excluded = [matcher.not].flat();
    return (e) => !excluded.includes(value(e));
  }
  return (e) => (value(e) !== '' && value(e) != null) === matcher.exists;
}

/** The event fields a condition tests, through its macros (each looked into once) and its branches. */
export function conditionFields(spec: ConditionSpec, library: Library, into = new Set<ConditionField>(), macros = new Set<string>()): Set<ConditionField> {
  for (const name of [spec.use ?? []].flat()) {
    const macro = library.macros[name];
    if (!macro || macros.has(name)) continue;
    macros.add(name);
    conditionFields(macro, library, into, macros);
  }
  for (const branch of spec.any_of ?? []) conditionFields(branch, library, into, macros);
  for (const field of CONDITION_FIELDS) if (spec[field] !== undefined) into.add(field);
  return into;
}
