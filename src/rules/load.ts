import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import type { HolidayCalendar } from '../calendar/index.js';
import { checkPlacedParams, compileRule, type CompiledRule, type Placement } from './compile.js';
import { compileCondition, ConditionError } from './conditions.js';
import { compileHolidayCalendar, HolidayFile } from './holidays.js';
import { COMPLAINT_RULE, policyMap, PolicyMapFile, POLICY_MAP_FILE, type ComplaintDestination, type PolicyMap } from './policy-map.js';
import { Library, Rule, type RuleSpec } from './schema.js';

/**
 * Reads a rule directory: `*.yaml` rules, shared lists and macros in
 * `lib/*.yaml`, the policy map `regions.yaml` (which rule holds where;
 * without it every rule holds everywhere) and the holiday calendar in
 * `calendar/<year>.yaml`. Every problem names its file, line and field; a
 * directory with any problem yields no rule set at all, so a half-valid set
 * never runs.
 */
export interface Problem {
  file: string;
  line: number;
  field: string;
  message: string;
}

export class RuleSetError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`${problems.length} problem(s) in rules:\n${problems.map(formatProblem).join('\n')}`);
  }
}

export const formatProblem = (p: Problem) => `${p.file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`;

export interface RuleSet {
  rules: CompiledRule[];
  library: Library;
  /** Which rule is in force where; null when the directory has no regions.yaml (every rule everywhere). */
  policy: PolicyMap | null;
  /** The operator's holiday calendar, in force while this set is (see registry.ts). */
  calendar: HolidayCalendar;
  /** Changes whenever any file's content changes: which rule set is live. */
  digest: string;
  dir: string;
  /** The text of every file it was compiled from, by path: a backtest's slice thread compiles the same set from them. */
  sources: Readonly<Record<string, string>>;
}

export interface Source {
  file: string;
  doc: Document;
  lines: LineCounter;
}

/**
 * Rule files are a few kilobytes. The YAML parser needs quadratic time for
 * maps with many keys and a deep stack for deep nesting, so a big file (a
 * mistake or an attack) is refused before parsing instead of stalling or
 * crashing the service during a reload.
 */
export const MAX_FILE_BYTES = 128 * 1024;
/** One syntax error usually causes more; the first few are the useful ones. */
const MAX_SYNTAX_ERRORS = 20;

/** Where rule files are read from: their directory, or the texts a set was compiled from (`RuleSet.sources`). */
interface RuleFiles {
  /** The YAML files directly in `dir`, by path, sorted. */
  yamlFiles(dir: string): Promise<string[]>;
  /** In bytes; rejects when there is no such file. */
  size(path: string): Promise<number>;
  text(path: string): Promise<string>;
}

const onDisk: RuleFiles = {
  async yamlFiles(dir) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(dir, e.name)).sort();
  },
  size: async (path) => (await stat(path)).size,
  text: (path) => readFile(path, 'utf8'),
};

function inMemory(sources: Readonly<Record<string, string>>): RuleFiles {
  const known = (path: string) => {
    const text = sources[path];
    if (text === undefined) throw new Error(`${path}: not among the rule set's sources`);
    return text;
  };
  return {
    yamlFiles: async (dir) => Object.keys(sources).filter((path) => dirname(path) === dirname(join(dir, 'file'))).sort(),
    size: async (path) => Buffer.byteLength(known(path)),
    text: async (path) => known(path),
  };
}

/** Reads and parses one YAML file; a file too large or with syntax errors adds its problems and gives null. */
export async function readSource(path: string, problems: Problem[], files: RuleFiles = onDisk): Promise<(Source & { text: string }) | null> {
  const file = relative(process.cwd(), path) || path;
  const size = await files.size(path);
  if (size > MAX_FILE_BYTES) {
    problems.push({ file, line: 1, field: '', message: `file is ${size} bytes; a rule file may have at most ${MAX_FILE_BYTES}` });
    return null;
  }
  const text = await files.text(path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const err of doc.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    problems.push({ file, line: lines.linePos(err.pos[0]).line, field: '', message: err.message });
  }
  return doc.errors.length > 0 ? null : { file, doc, lines, text };
}

/** Loads the rule set in `dir`, from its files or, given `sources` (a loaded set's), from those texts. */
export async function loadRuleSet(dir: string, sources?: Readonly<Record<string, string>>): Promise<RuleSet> {
  const problems: Problem[] = [];
  const digest = createHash('sha256');
  const files = sources ? inMemory(sources) : onDisk;
  const texts: Record<string, string> = {};
  const read = async (path: string): Promise<Source | null> => {
    const source = await readSource(path, problems, files);
    if (source) {
      digest.update(path).update(source.text);
      texts[path] = source.text;
    }
    return source;
  };

  const library: Library = { lists: {}, macros: {} };
  const macroSources = new Map<string, Source>();
  for (const path of await files.yamlFiles(join(dir, 'lib'))) {
    const source = await read(path);
    const parsed = source && validate(source, Library, problems);
    if (!parsed) continue;
    for (const [kind, entries] of Object.entries(parsed) as Array<[keyof Library, Record<string, never>]>) {
      for (const [name, value] of Object.entries(entries)) {
        if (name in library[kind]) problems.push(at(source, [kind, name], `${kind.slice(0, -1)} "${name}" is defined twice`));
        (library[kind] as Record<string, unknown>)[name] = value;
        if (kind === 'macros') macroSources.set(name, source);
      }
    }
  }
  // A macro's own mistakes (unknown macro or list, using itself) belong to its library file, used or not.
  for (const [name, source] of macroSources) {
    try {
      compileCondition(library.macros[name]!, library);
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      problems.push(at(source, ['macros', name, ...err.path], err.message));
    }
  }

  const calendar = await loadHolidayCalendar(join(dir, 'calendar'), files, read, problems);
  const mapSource = await read(join(dir, POLICY_MAP_FILE)).catch(() => null);
  const mapFile = mapSource && validate(mapSource, PolicyMapFile, problems);
  const policy = mapFile ? policyMap(mapFile) : null;

  const specs: Array<{ spec: RuleSpec; source: Source }> = [];
  const ids = new Map<string, string>();
  const ruleFiles = (await files.yamlFiles(dir)).filter((path) => basename(path) !== POLICY_MAP_FILE);
  // A mistyped RULES_DIR must stop the start, not run a service that watches nothing.
  if (ruleFiles.length === 0) problems.push({ file: dir, line: 0, field: '', message: 'no rule files (*.yaml) here; is the directory right?' });
  for (const path of ruleFiles) {
    const source = await read(path);
    const spec = source && validate(source, Rule, problems);
    if (!spec) continue;
    if (`${spec.id}.yaml` !== basename(path) && `${spec.id}.yml` !== basename(path)) {
      problems.push(at(source, ['id'], `must match the file name (${basename(path)})`));
    }
    if (ids.has(spec.id)) problems.push(at(source, ['id'], `rule "${spec.id}" is also defined in ${ids.get(spec.id)}`));
    ids.set(spec.id, source.file);
    specs.push({ spec, source });
  }
  // A rule file with problems of its own is reported there, not again as a rule the map cannot find.
  const named = new Set(ruleFiles.map((path) => basename(path).replace(/\.ya?ml$/, '')));
  const misplaced = new Set<string>();
  if (mapSource && mapFile) problems.push(...checkPolicyMap(mapSource, mapFile, new Map(specs.map(({ spec }) => [spec.id, spec])), named, misplaced));

  const rules: CompiledRule[] = [];
  // A rule the map gives bad parameters is reported in the map, not again as a rule those values break.
  for (const { spec, source } of specs.filter(({ spec }) => !misplaced.has(spec.id))) {
    const placement: Placement[] | null = policy ? policy.prefixesOf(spec.id) : null;
    const compiled = compileRule(spec, library, source.file, placement);
    if (compiled.ok) rules.push(compiled.rule);
    else problems.push(...compiled.problems.map((p) => at(source, p.path, p.message)));
  }
  if (problems.length > 0) throw new RuleSetError(problems);
  return { rules, library, policy, calendar, digest: digest.digest('hex').slice(0, 16), dir, sources: texts };
}

/** Whether complaints about companies in `region` go to `destination` (without a policy map: to the hotline). */
export function complaintsGoTo(set: RuleSet, region: string, destination: ComplaintDestination): boolean {
  return (set.policy?.forRegion(region).complaintsTo ?? ['hotline']).includes(destination);
}

/** Every rule the map places exists, and every parameter it sets is one the rule declares, shaped like its default. */
function checkPolicyMap(
  source: Source, map: PolicyMapFile, specs: ReadonlyMap<string, RuleSpec>, ruleFiles: ReadonlySet<string>, misplaced: Set<string>,
): Problem[] {
  const problems: Problem[] = [];
  map.regions.forEach((region, i) => {
    if (region.complaints_to?.includes('feed') && !ruleFiles.has(COMPLAINT_RULE)) {
      problems.push(at(source, ['regions', i, 'complaints_to'], `complaints go to the feed through the rule ${COMPLAINT_RULE}, which the rule set does not have`));
    }
    for (const [id, inForce] of Object.entries(region.rules)) {
      const spec = specs.get(id);
      if (!spec) {
        if (!ruleFiles.has(id)) problems.push(atKey(source, ['regions', i, 'rules'], id, `no rule "${id}" in the rule set (known: ${[...specs.keys()].sort().join(', ')})`));
        continue;
      }
      for (const p of checkPlacedParams(spec, inForce.params, ['regions', i, 'rules', id, 'params'])) {
        problems.push(at(source, p.path, p.message));
        misplaced.add(id);
      }
    }
  });
  return problems;
}

async function loadHolidayCalendar(
  dir: string, ruleFiles: RuleFiles, read: (path: string) => Promise<Source | null>, problems: Problem[],
): Promise<HolidayCalendar> {
  const files: Array<{ source: Source; name: string; spec: HolidayFile }> = [];
  for (const path of await ruleFiles.yamlFiles(dir)) {
    const source = await read(path);
    const spec = source && validate(source, HolidayFile, problems);
    if (spec) files.push({ source, name: basename(path), spec });
  }
  const compiled = compileHolidayCalendar(files.map(({ source, name, spec }) => ({ file: source.file, name, spec })));
  for (const p of compiled.problems) problems.push(at(files.find((f) => f.source.file === p.file)!.source, p.path, p.message));
  return compiled.calendar;
}

export function validate<T extends z.ZodType>(source: Source, schema: T, problems: Problem[]): z.infer<T> | null {
  let data: unknown;
  try {
    data = source.doc.toJS();
  } catch (err) {
    // yaml refuses to expand aliases past a limit (a "billion laughs" document) by throwing.
    problems.push(at(source, [], (err as Error).message));
    return null;
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    problems.push(issue.code === 'unrecognized_keys' ? unknownKeys(source, issue.path as (string | number)[], issue.keys) : at(source, issue.path as (string | number)[], issue.message));
  }
  return null;
}

/** zod reports unknown keys at their parent and lists them all; point at the first key itself, and list a few. */
function unknownKeys(source: Source, path: (string | number)[], keys: string[]): Problem {
  const shown = keys.slice(0, 5).map((k) => `"${k}"`).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
  return atKey(source, path, keys[0]!, `unknown field${keys.length > 1 ? 's' : ''} ${shown}`);
}

/** A problem with a key of the map at `path`, at the line of the key itself. */
function atKey(source: Source, path: (string | number)[], name: string, message: string): Problem {
  const parent = path.length === 0 ? source.doc.contents : source.doc.getIn(path, true);
  const key = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === name)?.key : undefined;
  const problem = at(source, path, message);
  const line = isNode(key) && key.range ? source.lines.linePos(key.range[0]).line : problem.line;
  return { ...problem, line, field: [...path, name].join('.') };
}

/** Points at the deepest part of `path` that exists in the file (a missing field points at its parent). */
export function at(source: Source, path: (string | number)[], message: string): Problem {
  let offset = 0;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? source.doc.contents : source.doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      offset = node.range[0];
      break;
    }
  }
  return { file: source.file, line: source.lines.linePos(offset).line, field: path.join('.'), message };
}

export type { RuleSpec };
