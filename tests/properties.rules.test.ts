import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, Scalar, type Document } from 'yaml';
import { createLogger } from '../src/log.js';
import { formatProblem, type Problem } from '../src/rules/load.js';
import { createRuleRegistry } from '../src/rules/registry.js';
import { checkin, creditCode } from './support/fixtures.js';
import type { RunRequest, RunResult } from './support/rule-runner.js';
import { eventually, startTestService, type TestService } from './support/service.js';

/**
 * Hostile rule files and parameters, generated and mutated with fast-check from the shipped rules/*.yaml,
 * loaded by the real loader in a temporary directory. Loading either succeeds — and then the engine runs
 * the set as the workers would, without an exception — or fails with problems naming file, line and field.
 * Never an uncaught exception, never a hang: each run happens in a worker thread that is terminated past
 * RUN_LIMIT_MS. A registry reload with a hostile file keeps the rule set in force, and so does a service.
 */
const SEED = Number(process.env.QJ_FC_SEED ?? 20261120);
const runs = (n: number) => ({ seed: SEED, numRuns: n, endOnFailure: process.env.QJ_FC_SHRINK === '0' });
const RUN_LIMIT_MS = 10_000;

const SHIPPED = join(import.meta.dirname, '..', 'rules');
const RULE_FILES = readdirSync(SHIPPED).filter((f) => f.endsWith('.yaml') && f !== 'regions.yaml').sort();
const FILES = [...RULE_FILES, 'lib/common.yaml', 'regions.yaml'];
const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function copyRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-rules-prop-'));
  temps.push(dir);
  cpSync(SHIPPED, dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The worker thread that loads and runs rule sets, with a time bound per run
// ---------------------------------------------------------------------------------------------

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, (result: RunResult) => void>();

function startWorker(): Worker {
  const file = new URL('./support/rule-runner.ts', import.meta.url).href;
  const w = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file)}); })`, { eval: true });
  w.on('message', (result: RunResult) => {
    pending.get(result.id)?.(result);
    pending.delete(result.id);
  });
  w.unref();
  return w;
}

type Outcome = RunResult | { outcome: 'hang'; ms: number };

/** Loads `dir` (and runs the engine, and optionally the rule tests) in the worker; a run past the limit is a hang. */
async function load(dir: string, tests = false): Promise<Outcome & { ms: number }> {
  worker ??= startWorker();
  const id = ++nextId;
  const started = performance.now();
  const result = await new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      void worker?.terminate();
      worker = null;
      resolve({ outcome: 'hang', ms: RUN_LIMIT_MS });
    }, RUN_LIMIT_MS);
    pending.set(id, (r) => {
      clearTimeout(timer);
      resolve(r);
    });
    worker!.postMessage({ id, dir, tests } satisfies RunRequest);
  });
  return { ...result, ms: performance.now() - started };
}
afterAll(() => worker?.terminate());

// ---------------------------------------------------------------------------------------------
// Mutations of the real rule files
// ---------------------------------------------------------------------------------------------

type Path = (string | number)[];

/** Every node's path in a document (aliases are not followed). */
function pathsOf(doc: Document): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, prefix: Path) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? (pair.key.value as string | number) : String(pair.key);
        out.push([...prefix, key]);
        walk(pair.value, [...prefix, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        out.push([...prefix, i]);
        walk(item, [...prefix, i]);
      });
    }
  };
  walk(doc.contents, []);
  return out;
}

const billionLaughs = (prefix: string) => ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((n, i) =>
  `${prefix}${n}: &${prefix}${n} [${i === 0 ? Array(9).fill('"lol"').join(', ') : Array(9).fill(`*${prefix}${'abcdefghi'[i - 1]}`).join(', ')}]`).join('\n');

/** Scalars and structures a hostile edit puts in a rule: huge, negative, fractional, non-finite, wrong types, templates, references. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e308, -1e308, Infinity, -Infinity, Number.NaN, -0, 0, -1, 0.5, 1.5, 2 ** 53 + 1, -(2 ** 31), 1e-300, 36_601, 501, -501, 1e21),
  fc.double(),
  fc.integer(),
  fc.constantFrom('$nope', '-$at_least', '$at_least', '$', '-$', '{{nope}}', '{{count}}', '-10..-1', '99..100', '0..0', '-1..-31', '1..31',
    'unbounded', 'threshold', 'absence', 'calendar', 'cap', 'enterprise_id', 'agency_id', 'week', 'Infinity', '', ' ', '~', 'null', 'onsite_entry', 'urgent_reasons'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom(null, true, false, [], {}, [[]], [null], { minutes: 1, hours: 1 }, { days: 1 }, { working_days: 0.5 }, { in_list: 'nope' }, { not: [] }, { exists: 'yes' }),
  fc.jsonValue({ maxDepth: 3 }),
);

const KNOWN_KEYS = ['id', 'version', 'kind', 'title', 'message', 'severity', 'mode', 'channels', 'source', 'params', 'regions', 'prefix', 'rules', 'detect', 'exemptions',
  'match', 'trigger', 'expect', 'correlate', 'within', 'from', 'to', 'days', 'hours', 'minutes', 'working_days', 'lateness', 'variants', 'direct',
  'group_by', 'count', 'window', 'sliding_days', 'at_least', 'limit', 'values', 'default', 'by', 'period', 'days_of_month', 'use', 'type', 'lists', 'macros'];

type Mutation =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'rename'; at: number; key: string }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'kind'; kind: string }
  | { op: 'deep'; at: number; depth: number; flow: 'seq' | 'map' }
  | { op: 'bomb'; where: 'append' | 'value'; at: number }
  | { op: 'huge'; at: number; size: number }
  | { op: 'text'; edit: 'insert' | 'cut' | 'duplicate-line' | 'tab' | 'truncate'; at: number; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString')) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', '<<')), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('kind' as const), kind: fc.oneof(fc.constantFrom('threshold', 'absence', 'calendar', 'cap', 'Threshold', 'sql', ''), fc.string({ maxLength: 8 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 30_000 }), flow: fc.constantFrom('seq' as const, 'map' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bomb' as const), where: fc.constantFrom('append' as const, 'value' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('huge' as const), at: fc.nat(), size: fc.integer({ min: 1_000, max: 200_000 }) }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('text' as const), edit: fc.constantFrom('insert' as const, 'cut' as const, 'duplicate-line' as const, 'tab' as const, 'truncate' as const), at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(':', '- ', '&x ', '*x', '!!binary ', '!!js/function "x"', '"', "'", '{', '[', '|', '>', '%YAML 1.1\n', '---\n', '... ', '\t', '? ', '<<: *x')),
  }) },
);

interface Applied {
  text: string;
  /** The paths the edit touched, when it touched any (to check a problem names one): a rename touches two. */
  paths: Path[];
  what: string;
}

function applyMutation(original: string, m: Mutation): Applied {
  try {
    return mutate(original, m);
  } catch (err) {
    // Replacing a node that carries an anchor leaves its aliases dangling, which the yaml library will not write
    // out; such a file is hostile input of its own, so write that: the anchor removed, its aliases unresolved.
    if (!/alias|anchor/i.test((err as Error).message)) throw err;
    return { text: original.replace(/&[\w-]+/, ''), paths: [], what: `${m.op} of an anchored node: its aliases left dangling` };
  }
}

function mutate(original: string, m: Mutation): Applied {
  const doc = parseDocument(original, { uniqueKeys: false });
  const paths = pathsOf(doc);
  const pick = (at: number) => paths[at % paths.length]!;
  switch (m.op) {
    case 'set': {
      const path = pick(m.at);
      doc.setIn(path, m.value);
      return { text: doc.toString(), paths: [path], what: `${path.join('.')} = ${JSON.stringify(m.value)}` };
    }
    case 'delete': {
      const path = pick(m.at);
      doc.deleteIn(path);
      return { text: doc.toString(), paths: [path], what: `delete ${path.join('.')}` };
    }
    case 'rename': {
      const path = pick(m.at);
      const parent = doc.getIn(path.slice(0, -1), true) ?? doc.contents;
      if (!isMap(parent)) return { text: doc.toString(), paths: [], what: 'nothing renamed' };
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1));
      if (pair) pair.key = new Scalar(m.key);
      return { text: doc.toString(), paths: [path, [...path.slice(0, -1), m.key]], what: `rename ${path.join('.')} to ${JSON.stringify(m.key)}` };
    }
    case 'add': {
      const maps = [[], ...paths].filter((p) => isMap(p.length === 0 ? doc.contents : doc.getIn(p, true)));
      const path = maps[m.at % maps.length]!;
      const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
      if (isMap(node)) node.set(m.key, doc.createNode(m.value));
      return { text: doc.toString(), paths: [[...path, m.key]], what: `add ${[...path, m.key].join('.')} = ${JSON.stringify(m.value)}` };
    }
    case 'kind':
      doc.set('kind', m.kind);
      return { text: doc.toString(), paths: [['kind']], what: `kind = ${JSON.stringify(m.kind)}` };
    case 'deep': {
      const path = pick(m.at);
      doc.setIn(path, 'QJ_DEEP_VALUE');
      const nested = m.flow === 'seq' ? `${'['.repeat(m.depth)}1${']'.repeat(m.depth)}` : `${'{a: '.repeat(m.depth)}1${'}'.repeat(m.depth)}`;
      return { text: doc.toString().replace('QJ_DEEP_VALUE', nested), paths: [path], what: `${path.join('.')} nested ${m.depth} deep` };
    }
    case 'bomb': {
      if (m.where === 'append') return { text: `${original}\n${billionLaughs('qj_')}\n`, paths: [], what: 'an alias bomb appended' };
      const path = pick(m.at);
      doc.setIn(path, 'QJ_BOMB_VALUE');
      // The anchors first (top-level keys of their own), then the edited value refers to the last one.
      const text = doc.toString().replace('QJ_BOMB_VALUE', '*qj_i');
      return { text: `${billionLaughs('qj_')}\n${text}`, paths: [], what: `${path.join('.')} = an alias bomb` };
    }
    case 'huge': {
      const path = pick(m.at);
      doc.setIn(path, 'x'.repeat(m.size));
      return { text: doc.toString(), paths: [path], what: `${path.join('.')} = a ${m.size}-character string` };
    }
    case 'text': {
      const at = m.at % (original.length + 1);
      const lines = original.split('\n');
      const line = m.at % lines.length;
      const text = {
        insert: () => original.slice(0, at) + m.text + original.slice(at),
        cut: () => original.slice(0, at) + original.slice(Math.min(original.length, at + 1 + (m.text.length * 7))),
        'duplicate-line': () => [...lines.slice(0, line + 1), lines[line]!, ...lines.slice(line + 1)].join('\n'),
        tab: () => lines.map((l, i) => (i === line ? l.replace(/^ +/, '\t') : l)).join('\n'),
        truncate: () => original.slice(0, at),
      }[m.edit]();
      return { text, paths: [], what: `text ${m.edit} at ${m.edit === 'insert' || m.edit === 'cut' || m.edit === 'truncate' ? `offset ${at}` : `line ${line + 1}`}${m.edit === 'insert' ? ` of ${JSON.stringify(m.text)}` : ''}` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What every failed load must look like
// ---------------------------------------------------------------------------------------------

class RunFailure extends Error {}
const fail = (why: string, context: string): never => {
  throw new RunFailure(`${why}\n    ${context}\n    seed: ${SEED}`);
};

/** Every problem names a file of the directory, a line inside it, a field (possibly empty: the whole file) and a message. */
function checkProblems(problems: Problem[], dir: string, context: string): void {
  if (problems.length === 0) fail('a failed load without problems', context);
  for (const p of problems) {
    const shown = formatProblem(p);
    if (typeof p.file !== 'string' || typeof p.field !== 'string' || typeof p.message !== 'string' || p.message.trim() === '') fail(`a malformed problem ${JSON.stringify(p)}`, context);
    if (p.file === relative(process.cwd(), dir) || p.file === dir) continue; // the directory itself ("no rule files")
    let text: string;
    try {
      text = readFileSync(join(process.cwd(), p.file), 'utf8');
    } catch {
      fail(`problem "${shown}" names a file that does not exist`, context);
      return;
    }
    if (!relative(dir, join(process.cwd(), p.file)).match(/^[^.]/)) fail(`problem "${shown}" names a file outside the rules directory`, context);
    const lines = text.split('\n').length;
    if (!Number.isInteger(p.line) || p.line < 1 || p.line > lines + 1) fail(`problem "${shown}" names line ${p.line} of a ${lines}-line file`, context);
    if (shown.length > 5_000) fail(`problem "${shown.slice(0, 200)}…" is ${shown.length} characters long`, context);
  }
}

/** Whether a problem's field is the edited path, inside it, or a parent of it. */
function names(field: string, path: Path): boolean {
  const p = path.join('.');
  return field === p || field.startsWith(`${p}.`) || p.startsWith(`${field}.`);
}

describe(`properties of hostile rule files (seed ${SEED})`, () => {
  it('a mutated rule or library file loads, and then runs, or is refused with file, line and field — never a throw or a hang', async () => {
    const dir = copyRules();
    const originals = new Map(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    await fc.assert(fc.asyncProperty(fc.constantFrom(...FILES), mutationArb, async (file, mutation) => {
      const original = originals.get(file)!;
      const applied = applyMutation(original, mutation);
      writeFileSync(join(dir, file), applied.text);
      const context = `${file}: ${applied.what}`;
      try {
        const result = await load(dir);
        if (result.outcome === 'hang') fail(`loading and running took more than ${RUN_LIMIT_MS} ms`, context);
        if (result.outcome === 'threw') fail(`uncaught exception ${result.error}`, context);
        if (result.ms > 5_000) fail(`took ${Math.round(result.ms)} ms`, context);
        if (result.outcome === 'loaded') {
          if (result.rules.length !== RULE_FILES.length) fail(`loaded ${result.rules.length} rules from ${RULE_FILES.length} files`, context);
          return;
        }
        if (result.outcome !== 'problems') return;
        checkProblems(result.problems, dir, context);
        // A value edited in a rule is named by a problem at (or around) its path. Not for: edits of params, overrides, kind
        // or id (named where they are used), files with YAML aliases (named where the alias is used), or library files.
        const own = result.problems.filter((p) => p.file.endsWith(file));
        const { paths } = applied;
        const direct = paths.length > 0 && file !== 'lib/common.yaml' && !original.includes('&')
          && paths.every((path) => !['params', 'regions', 'kind', 'id'].includes(String(path[0])));
        // (A problem with no field is about the whole file: its syntax, its size, an alias bomb.)
        if (direct && !own.some((p) => p.field === '' || paths.some((path) => names(p.field, path)))) {
          fail(`no problem names ${paths.map((p) => p.join('.')).join(' or ')}: ${result.problems.map(formatProblem).join(' | ').slice(0, 800)}`, context);
        }
      } finally {
        writeFileSync(join(dir, file), original);
      }
    }), runs(250));
  });

  it('hostile parameters (huge, negative, fractional, wrong types, set per region by the policy map) are refused at their field or the engine runs them', async () => {
    const dir = copyRules();
    const docs = new Map(RULE_FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const regions = readFileSync(join(dir, 'regions.yaml'), 'utf8');
    const params = RULE_FILES.flatMap((f) => Object.keys((parseDocument(docs.get(f)!).toJS() as { params?: object }).params ?? {}).map((name) => [f, name] as const));
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...params),
      fc.oneof(hostileValue, fc.constantFrom(['-40..-1'], ['0..5'], ['-1..-10'], [], [100], ['x'], [-31, 31], [0], [1.5], 'x')),
      fc.option(fc.constantFrom('37', '3714', '371402', '3706', '1', '3714021'), { nil: undefined }),
      async ([file, name], value, region) => {
        const original = docs.get(file)!;
        if (region === undefined) {
          const doc = parseDocument(original);
          doc.setIn(['params', name], value);
          writeFileSync(join(dir, file), doc.toString());
        } else {
          const map = parseDocument(regions);
          const entry = { prefix: region, name: '测试', source: { document: 'x.txt', clause: 'test' }, rules: { [file.replace('.yaml', '')]: { params: { [name]: value } } } };
          map.addIn(['regions'], map.createNode(entry));
          writeFileSync(join(dir, 'regions.yaml'), map.toString());
        }
        const context = `${file}: ${region === undefined ? '' : `the policy map for region ${region}: `}${name} = ${JSON.stringify(value)}`;
        try {
          const result = await load(dir);
          if (result.outcome === 'hang') fail(`loading and running took more than ${RUN_LIMIT_MS} ms`, context);
          if (result.outcome === 'threw') fail(`the loader accepted a parameter the engine cannot run: ${result.error}`, context);
          if (result.outcome === 'problems') {
            checkProblems(result.problems, dir, context);
            for (const p of result.problems) if (p.field === '') fail(`problem "${formatProblem(p)}" names no field`, context);
          }
        } finally {
          writeFileSync(join(dir, file), original);
          writeFileSync(join(dir, 'regions.yaml'), regions);
        }
      },
    ), runs(200));
  });

  it('a registry reload with a hostile file keeps the previous rule set in force, and recovers when the file is fixed', async () => {
    const dir = copyRules();
    const originals = new Map(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const registry = await createRuleRegistry(dir, createLogger('silent'));
    const good = registry.current();
    try {
      await fc.assert(fc.asyncProperty(fc.constantFrom(...FILES), mutationArb, async (file, mutation) => {
        const inForce = registry.current();
        const applied = applyMutation(originals.get(file)!, mutation);
        const context = `${file}: ${applied.what}`;
        writeFileSync(join(dir, file), applied.text);
        try {
          const started = performance.now();
          const outcome = await registry.reload();
          if (performance.now() - started > 5_000) fail(`the reload took ${Math.round(performance.now() - started)} ms`, context);
          if (!outcome.ok) {
            if (registry.current() !== inForce) fail('a failed reload replaced the rule set', context);
            const lastError = registry.status().last_error;
            if (!lastError || lastError.message !== outcome.error) fail('a failed reload is not in status().last_error', context);
            if (!/\.ya?ml/.test(outcome.error)) fail(`the reload error names no file: ${outcome.error.slice(0, 300)}`, context);
          } else if (outcome.changed && registry.current().rules.length !== RULE_FILES.length) {
            fail(`a reload put ${registry.current().rules.length} rules in force`, context);
          }
        } finally {
          writeFileSync(join(dir, file), originals.get(file)!);
          const back = await registry.reload();
          if (!back.ok || registry.status().digest !== good.digest) fail(`the fixed files did not load back: ${JSON.stringify(back).slice(0, 300)}`, context);
        }
      }), runs(60));
    } finally {
      registry.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A running service keeps evaluating with its rules when RULES_DIR gets hostile files
// ---------------------------------------------------------------------------------------------

describe('a running service whose RULES_DIR gets hostile files', () => {
  // tests/rules.reload.test.ts shows a failed reload keeps serving the last good set over /v1/rules; this shows the
  // workers keep evaluating with it: a new alert comes from the old rules, and nothing of the hostile files runs.
  const token = randomBytes(32).toString('base64url');
  const headers = { authorization: `Bearer ${token}` };
  let service: TestService;
  let dir: string;
  beforeAll(async () => {
    dir = copyRules();
    service = await startTestService({ QINGJIAN_BOOTSTRAP_TOKEN: token, RULES_DIR: dir, RULES_WATCH: 'true', STORE_BATCH_WAIT_MS: '20' });
  });
  afterAll(() => service?.dispose());
  const get = async (path: string) => (await fetch(`${service.url}${path}`, { headers })).json();

  it('keeps the rule set in force, reports why, and raises alerts with the old rules', async () => {
    const before = await get('/v1/rules');
    // A new rule file, no tests beside it, with a window the engine cannot run: before the loader bounded windows it
    // was put in force (no test failed) and every evaluation threw, for every company and every rule.
    writeFileSync(join(dir, 'hostile-visits.yaml'), readFileSync(join(dir, 'frequent-visits.yaml'), 'utf8')
      .replace('id: frequent-visits', 'id: hostile-visits').replace('window_days: 15', 'window_days: 0'));
    // Adopted in 德州 beside frequent-visits, so that it would run for the company below if it were put in force.
    const map = readFileSync(join(dir, 'regions.yaml'), 'utf8');
    const dezhouRules = map.indexOf('    rules:\n      frequent-visits:\n', map.indexOf('  - prefix: "3714"\n'));
    expect(dezhouRules).toBeGreaterThan(0);
    writeFileSync(join(dir, 'regions.yaml'), `${map.slice(0, dezhouRules)}    rules:\n      hostile-visits:\n${map.slice(dezhouRules + '    rules:\n'.length)}`);
    await eventually(async () => ((await get('/v1/rules')).last_error?.message.includes('hostile-visits.yaml') ? true : undefined), 20_000, 'hostile-visits refused');
    expect((await get('/v1/rules')).digest).toBe(before.digest);
    // Then a library alias bomb and an edit that breaks a shipped rule.
    writeFileSync(join(dir, 'lib', 'bomb.yaml'), billionLaughs('b_'));
    writeFileSync(join(dir, 'frequent-visits.yaml'), readFileSync(join(dir, 'frequent-visits.yaml'), 'utf8').replace('at_least: 4', 'at_least: -4'));

    const failed = await eventually(async () => {
      const rules = await get('/v1/rules');
      return rules.last_error?.message.includes('hostile-visits.yaml') && rules.last_error.message.includes('bomb.yaml') ? rules : undefined;
    }, 20_000, 'the failed reload reported');
    expect(failed.digest).toBe(before.digest);
    expect(failed.rules.map((r: { id: string }) => r.id)).toEqual(before.rules.map((r: { id: string }) => r.id));
    expect(failed.last_error.message).toMatch(/hostile-visits\.yaml:\d+: detect\.window\.sliding_days: must be more than 0 days/);
    expect(failed.last_error.message).toMatch(/lib\/bomb\.yaml:1: .*alias/i);
    expect(failed.last_error.message).toMatch(/frequent-visits\.yaml:\d+: detect\.at_least:/);

    // Four agencies' visits within 15 days to a 德州 company: frequent-visits (the old, shipped version) raises its
    // alert; the workers run.
    const company = creditCode('371402', 8800);
    const base = Date.parse('2026-11-03T10:00:00+08:00');
    const agencies = ['371400-SCJG', '371400-YJGL', '371400-STHJ', '371400-XFJY'];
    const visits = [0, 3, 6, 9].map((d, i) => checkin({
      enterprise_id: company, occurred_at: new Date(base + d * 86_400_000).toISOString(), agency_id: agencies[i], officer_ids: [`${agencies[i]}-001`],
    }));
    const res = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(visits) });
    expect(res.status).toBe(202);
    const alert = await eventually(async () => (await get(`/v1/alerts?enterprise=${company}&rule=frequent-visits`)).items?.[0], 30_000, 'an alert from the old rules');
    expect(alert).toMatchObject({ rule_id: 'frequent-visits', rule_version: 2, variant: '', count: 4 });
    expect((await get(`/v1/alerts?enterprise=${company}&rule=hostile-visits`)).items).toEqual([]);
  });
});
