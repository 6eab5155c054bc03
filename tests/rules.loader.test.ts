import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, loadRuleSet, MAX_FILE_BYTES, RuleSetError, type Problem } from '../src/rules/load.js';
import { policyMapJsonSchema } from '../src/rules/policy-map.js';
import { libraryJsonSchema, ruleJsonSchema } from '../src/rules/schema.js';
import { runRuleTests } from '../src/rules/testing.js';

/**
 * The rule loader and the rule test runner against real files: a copy of the
 * shipped rules/ in a temp directory, broken one way at a time, must name the
 * file, line and field of the mistake — and nothing hostile may hang or crash it.
 */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const shipped = join(root, 'rules');
const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-rules-'));
  temps.push(dir);
  return dir;
}

/** A fresh copy of the shipped rules to break. */
function copyRules(): string {
  const dir = tempDir();
  cpSync(shipped, dir, { recursive: true });
  return dir;
}

function edit(dir: string, file: string, change: (text: string) => string): void {
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before);
  writeFileSync(path, after);
}

/** 1-based line of the first line of `file` containing `text`. */
function lineOf(dir: string, file: string, text: string): number {
  const index = readFileSync(join(dir, file), 'utf8').split('\n').findIndex((l) => l.includes(text));
  expect(index, `"${text}" in ${file}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

/** Problems are reported relative to the working directory (vitest runs from the repo root). */
const fileName = (dir: string, file: string) => relative(process.cwd(), join(dir, file));

async function problemsOf(dir: string): Promise<Problem[]> {
  try {
    await loadRuleSet(dir);
  } catch (err) {
    if (err instanceof RuleSetError) return err.problems;
    throw err;
  }
  throw new Error('the rule set loaded without problems');
}

const problem = (dir: string, file: string, line: number, field: string, message: RegExp) =>
  ({ file: fileName(dir, file), line, field, message: expect.stringMatching(message) });

describe('each mistake is reported with its file, line and field', () => {
  it('loads the shipped rules without problems (the baseline every mutation below breaks)', async () => {
    const set = await loadRuleSet(copyRules());
    expect(set.rules.map((r) => r.spec.id)).toEqual([
      'abnormal-duration', 'advance-notice', 'annual-cap', 'complaint-received', 'deregistered-company', 'entry-without-scan',
      'exit-without-scan', 'frequent-visits', 'joint-not-together', 'leader-visit-unfiled', 'low-satisfaction', 'no-plan',
      'onsite-after-clean-offsite', 'plan-not-executed', 'plan-overlap', 'quiet-period', 'result-overdue',
    ]);
  });

  it('a YAML syntax error', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('severity: high', 'severity: "high'));
    expect(await problemsOf(dir)).toEqual([problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'severity: "high'), '', /Missing closing "quote/)]);
  });

  it('an unknown top-level field, at the line of the field itself', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('mode: active', 'mode: active\ncolour: red'));
    expect(await problemsOf(dir)).toEqual([problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'colour:'), 'colour', /unknown field "colour"/)]);
  });

  it('a wrong type', async () => {
    const dir = copyRules();
    edit(dir, 'annual-cap.yaml', (t) => t.replace('version: 2', 'version: "one"'));
    const [only, ...rest] = await problemsOf(dir);
    expect(rest).toEqual([]);
    expect(only).toEqual(problem(dir, 'annual-cap.yaml', lineOf(dir, 'annual-cap.yaml', 'version:'), 'version', /expected number, received string/));
    expect(formatProblem(only!)).toBe(`${fileName(dir, 'annual-cap.yaml')}:3: version: Invalid input: expected number, received string`);
  });

  it('a missing detect, at the start of the rule', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace(/^detect:[\s\S]*$/m, ''));
    expect(await problemsOf(dir)).toEqual([problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'id: frequent-visits'), 'detect', /expected object/)]);
  });

  it('an unknown $parameter', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('at_least: $at_least', 'at_least: $at_most'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', '$at_most'), 'detect.at_least', /\$at_most, which params does not declare/),
    ]);
  });

  it('a policy map setting an undeclared parameter, or one of the wrong type', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => t.replace('      frequent-visits:\n', '      frequent-visits:\n        params:\n          at_most: 3\n          window_days: "fifteen"\n'));
    const line = (text: string) => lineOf(dir, 'regions.yaml', text);
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'regions.yaml', line('at_most: 3'), 'regions.0.rules.frequent-visits.params.at_most', /sets parameter at_most, which rule frequent-visits does not declare/),
      problem(dir, 'regions.yaml', line('window_days: "fifteen"'), 'regions.0.rules.frequent-visits.params.window_days', /must be a number like the default of frequent-visits, got a string/),
    ]);
  });

  it('a region routing a rule to a channel that does not exist, at the rule\'s channels, naming the region', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => t.replace('channels: [hotline, feed]', 'channels: [fax, feed]'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'low-satisfaction.yaml', lineOf(dir, 'low-satisfaction.yaml', 'channels: $channels'), 'channels', /must be a list of feed, hotline, or a \$parameter holding one \(with the parameters of region 3706\)/),
    ]);
  });

  it('a mistake inside any_of, at its branch', async () => {
    const dir = copyRules();
    edit(dir, 'result-overdue.yaml', (t) => t.replace('expect: { use: complete_result }', 'expect: { type: inspection, any_of: [{ outcome: penalty }, { use: complete_reslt }] }'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'result-overdue.yaml', lineOf(dir, 'result-overdue.yaml', 'complete_reslt'), 'detect.expect.any_of.1.use', /unknown macro "complete_reslt"/),
    ]);
  });

  it('a policy map placing a rule that does not exist', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => t.replace('      frequent-visits:\n', '      frequent-visit:\n'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'regions.yaml', lineOf(dir, 'regions.yaml', 'frequent-visit:'), 'regions.0.rules.frequent-visit', /no rule "frequent-visit" in the rule set/),
    ]);
  });

  it('a policy map sending complaints to the feed without the rule that raises them', async () => {
    const dir = copyRules();
    rmSync(join(dir, 'complaint-received.yaml'));
    rmSync(join(dir, 'tests', 'complaint-received.test.yaml'), { force: true });
    const line = (nth: number) => readFileSync(join(dir, 'regions.yaml'), 'utf8').split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => /^    complaints_to: .*feed/.test(l))[nth]![1];
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'regions.yaml', line(0), 'regions.0.complaints_to', /through the rule complaint-received, which the rule set does not have/),
      problem(dir, 'regions.yaml', line(1), 'regions.1.complaints_to', /through the rule complaint-received/),
    ]);
  });

  it('a rule no region has adopted is still checked, so its mistakes show before a city adopts it', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => t.replace(/      frequent-visits:\n(        .*\n)+/, ''));
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('match: { use: onsite_presence }', 'match: { use: onsite_presense }'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'onsite_presense'), 'detect.match.use', /unknown macro "onsite_presense"/),
    ]);
  });

  it('a policy map listing one prefix twice', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => t.replace('  - prefix: "3503"', '  - prefix: "3706"'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'regions.yaml', lineOf(dir, 'regions.yaml', 'name: 莆田市') - 1, 'regions.2.prefix', /prefix 3706 is also listed at regions.1/),
    ]);
  });

  it('an unknown macro, at the condition that uses it', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('match: { use: onsite_presence }', 'match: { use: onsite_presense }'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'onsite_presense'), 'detect.match.use', /unknown macro "onsite_presense"/),
    ]);
  });

  it('a macro using itself, in the library file and in the rule that uses it', async () => {
    const dir = copyRules();
    edit(dir, 'lib/common.yaml', (t) => t.replace('  qr_entry:\n    use: onsite_entry', '  qr_entry:\n    use: qr_entry'));
    const problems = await problemsOf(dir);
    expect(problems).toContainEqual(problem(dir, 'lib/common.yaml', lineOf(dir, 'lib/common.yaml', 'use: qr_entry'), 'macros.qr_entry.use', /macro "qr_entry" uses itself/));
    expect(problems).toContainEqual(
      problem(dir, 'entry-without-scan.yaml', lineOf(dir, 'entry-without-scan.yaml', 'expect: { use: qr_entry }'), 'detect.expect.use', /uses itself/),
    );
    expect(problems).toContainEqual(
      problem(dir, 'exit-without-scan.yaml', lineOf(dir, 'exit-without-scan.yaml', 'trigger: { use: qr_entry }'), 'detect.trigger.use', /uses itself/),
    );
    expect(problems).toHaveLength(3);
  });

  it("an unknown macro in a white-list company's expectation or in what a cap leaves uncounted, at load", async () => {
    const dir = copyRules();
    edit(dir, 'no-plan.yaml', (t) => t.replace('whitelisted_expect: { reviewed_by: justice_bureau }', 'whitelisted_expect: { use: reviewed_plan }'));
    edit(dir, 'annual-cap.yaml', (t) => t.replace('not_counted: { national_basis: { exists: true } }', 'not_counted: { use: national_law }'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'annual-cap.yaml', lineOf(dir, 'annual-cap.yaml', 'national_law'), 'detect.not_counted.use', /unknown macro "national_law"/),
      problem(dir, 'no-plan.yaml', lineOf(dir, 'no-plan.yaml', 'reviewed_plan'), 'detect.whitelisted_expect.use', /unknown macro "reviewed_plan"/),
    ]);
  });

  it('an unknown list, in an exemption (not blamed on detect)', async () => {
    const dir = copyRules();
    edit(dir, 'no-plan.yaml', (t) => t.replace('in_list: urgent_reasons', 'in_list: urgent_reasonz'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'no-plan.yaml', lineOf(dir, 'no-plan.yaml', 'urgent_reasonz'), 'exemptions.0.when.urgent_reason.in_list', /unknown list "urgent_reasonz"/),
    ]);
  });

  it('an unknown list inside a macro names the macro, in the library and at each use', async () => {
    const dir = copyRules();
    edit(dir, 'lib/common.yaml', (t) => t.replace('in_list: standing_plan_statuses', 'in_list: standing_plan_status'));
    const problems = await problemsOf(dir);
    expect(problems[0]).toEqual(problem(dir, 'lib/common.yaml', lineOf(dir, 'lib/common.yaml', 'in_list: standing_plan_status'), 'macros.standing_onsite_plan.status.in_list', /unknown list/));
    expect(problems).toContainEqual(problem(dir, 'no-plan.yaml', lineOf(dir, 'no-plan.yaml', 'expect: { use: standing_onsite_plan }'), 'detect.expect.use', /\(in macro standing_onsite_plan\)/));
  });

  it('an unknown template placeholder', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('预警线{{at_least}}', '预警线{{at_leest}}'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', '{{at_leest}}'), 'message.zh', /unknown placeholder \{\{at_leest\}\}; known: .*at_least/),
    ]);
  });

  it('an id that does not match the file name', async () => {
    const dir = copyRules();
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('id: frequent-visits', 'id: frequent-visit'));
    expect(await problemsOf(dir)).toEqual([problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'id:'), 'id', /must match the file name \(frequent-visits\.yaml\)/)]);
  });

  it('the same id in two files', async () => {
    const dir = copyRules();
    cpSync(join(dir, 'frequent-visits.yaml'), join(dir, 'frequent-visits.yml'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'frequent-visits.yml', lineOf(dir, 'frequent-visits.yml', 'id:'), 'id', /rule "frequent-visits" is also defined in .*frequent-visits\.yaml/),
    ]);
  });

  it('a day range that does not run upwards within one sign', async () => {
    const dir = copyRules();
    edit(dir, 'quiet-period.yaml', (t) => t.replace('days: ["21..31"]', 'days: ["-3..5"]'));
    expect(await problemsOf(dir)).toEqual([problem(dir, 'quiet-period.yaml', lineOf(dir, 'quiet-period.yaml', '"-3..5"'), 'params.days.0', /"-3\.\.5" must run upwards/)]);
  });

  it('an offset with two units', async () => {
    const dir = copyRules();
    edit(dir, 'entry-without-scan.yaml', (t) => t.replace('lateness: { minutes: $lateness_minutes }', 'lateness: { minutes: $lateness_minutes, hours: 1 }'));
    expect(await problemsOf(dir)).toEqual([
      problem(dir, 'entry-without-scan.yaml', lineOf(dir, 'entry-without-scan.yaml', 'lateness:'), 'detect.lateness', /exactly one of minutes, hours, days, working_days/),
    ]);
  });
});

describe('hostile input is rejected quickly, without a crash or a memory blow-up', () => {
  const billionLaughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    .concat('bcdefghi'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`))
    .join('\n');

  /** Runs `load`, which must settle within `ms` and grow the heap by less than 200 MB. */
  async function bounded<T>(ms: number, load: () => Promise<T>): Promise<T> {
    const heap = process.memoryUsage().heapUsed;
    const started = performance.now();
    const result = await load();
    expect(performance.now() - started).toBeLessThan(ms);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(200 * 1024 * 1024);
    return result;
  }

  it('a billion-laughs alias bomb in a library file', async () => {
    const dir = copyRules();
    writeFileSync(join(dir, 'lib', 'bomb.yaml'), billionLaughs);
    expect(await bounded(2000, () => problemsOf(dir))).toEqual([problem(dir, 'lib/bomb.yaml', 1, '', /alias/i)]);
  });

  it('a billion-laughs alias bomb as a rule file and as a rule test file', async () => {
    const dir = copyRules();
    writeFileSync(join(dir, 'bomb.yaml'), billionLaughs);
    expect(await bounded(2000, () => problemsOf(dir))).toEqual([problem(dir, 'bomb.yaml', 1, '', /alias/i)]);

    const tests = copyRules();
    writeFileSync(join(tests, 'tests', 'bomb.test.yaml'), billionLaughs);
    const report = await bounded(5000, async () => runRuleTests(await loadRuleSet(tests)));
    expect(report.problems).toEqual([problem(tests, 'tests/bomb.test.yaml', 1, '', /alias/i)]);
  });

  it('a 5 MB file of junk is refused before it is parsed', async () => {
    const dir = copyRules();
    const junk = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0, x = 7; i < junk.length; i++) junk[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) % 256;
    writeFileSync(join(dir, 'junk.yaml'), junk);
    expect(await bounded(1000, () => problemsOf(dir))).toEqual([problem(dir, 'junk.yaml', 1, '', new RegExp(`at most ${MAX_FILE_BYTES}`))]);
  });

  it('nesting as deep as the size limit allows is a syntax problem, not a stack overflow', async () => {
    const dir = copyRules();
    writeFileSync(join(dir, 'deep.yaml'), '['.repeat(MAX_FILE_BYTES));
    const problems = await bounded(10_000, () => problemsOf(dir));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.length).toBeLessThanOrEqual(20);
    expect(problems.every((p) => p.file === fileName(dir, 'deep.yaml'))).toBe(true);
  });

  it('macros that double at every level are refused instead of expanding 2^40 times', async () => {
    const dir = copyRules();
    const levels = Array.from({ length: 40 }, (_, k) => `  a${k + 1}: { use: [a${k}, b${k}] }\n  b${k + 1}: { use: [a${k}, b${k}] }`);
    writeFileSync(join(dir, 'lib', 'bomb.yaml'), `macros:\n  a0: { type: checkin }\n  b0: { type: checkin }\n${levels.join('\n')}\n`);
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('match: { use: onsite_presence }', 'match: { use: a40 }'));
    const problems = await bounded(10_000, () => problemsOf(dir));
    expect(problems).toContainEqual(problem(dir, 'lib/bomb.yaml', lineOf(dir, 'lib/bomb.yaml', '  a40:'), 'macros.a40.use', /more than 1000 macro uses/));
    expect(problems).toContainEqual(problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'use: a40'), 'detect.match.use', /more than 1000 macro uses/));
  });

  it('a condition with 10,000 fields is rejected with one problem at the first unknown field', async () => {
    const dir = copyRules();
    const fields = Array.from({ length: 10_000 }, (_, i) => `f${i}: 1`).join(', ');
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('match: { use: onsite_presence }', `match: { use: onsite_presence, ${fields} }`));
    expect(statSync(join(dir, 'frequent-visits.yaml')).size).toBeLessThan(MAX_FILE_BYTES);
    expect(await bounded(10_000, () => problemsOf(dir))).toEqual([
      problem(dir, 'frequent-visits.yaml', lineOf(dir, 'frequent-visits.yaml', 'f0: 1'), 'detect.match.f0', /^unknown fields "f0", "f1", "f2", "f3", "f4" and 9995 more$/),
    ]);
  });

  it('a condition listing 10,000 values is fine', async () => {
    const dir = copyRules();
    const agencies = Array.from({ length: 10_000 }, (_, i) => `A${i}`).join(', ');
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('match: { use: onsite_presence }', `match: { use: onsite_presence, agency_id: [${agencies}] }`));
    const set = await bounded(10_000, () => loadRuleSet(dir));
    const rule = set.rules.find((r) => r.spec.id === 'frequent-visits')!.forRegion('371400')!;
    expect((rule.spec.detect as { match: { agency_id: string[] } }).match.agency_id).toHaveLength(10_000);
  });
});

describe('the policy map: which rule holds where', () => {
  // One Yantai (370602) and one Dezhou (371402) company, three visits each within 15 days, by three agencies.
  const testFile = `
rule: frequent-visits
companies:
  - { enterprise_id: 91370600000000003W, name: 烟台示例食品有限公司, region: "370602", credit_grade: C }
  - { enterprise_id: 91371400000000001Q, name: 德州示例机械有限公司, region: "371402", credit_grade: C }
agencies:
  - { agency_id: 370600-SCJG, name: 烟台市市场监督管理局 }
cases:
  - name: three visits in Yantai reach its own line of three
    now: 2026-03-20T18:00:00+08:00
    events:
      - { id: y1, type: checkin, at: -12d }
      - { id: y2, type: checkin, at: -8d, agency_id: 370600-YJGL }
      - { id: y3, type: checkin, at: -4d, agency_id: 370600-STHJ }
    expect:
      - { count: 3, evidence: [y1, y2, y3], figures: { at_least: 3 } }
  - name: three visits in Dezhou stay under its line of four
    now: 2026-03-20T18:00:00+08:00
    events:
      - { id: d1, type: checkin, at: -12d, enterprise_id: 91371400000000001Q, region: "371402", agency_id: 371400-SCJG }
      - { id: d2, type: checkin, at: -8d, enterprise_id: 91371400000000001Q, region: "371402", agency_id: 371400-YJGL }
      - { id: d3, type: checkin, at: -4d, enterprise_id: 91371400000000001Q, region: "371402", agency_id: 371400-STHJ }
    expect: []
`;

  function regionalTests(): string {
    const dir = tempDir();
    writeFileSync(join(dir, 'regional.test.yaml'), testFile);
    return dir;
  }

  /** Puts frequent-visits in force in 烟台 with its own line of three. */
  const adoptInYantai = (t: string) =>
    t.replace('  - prefix: "3706"\n    name: 烟台市\n', '  - prefix: "3706"\n    name: 烟台市\n').replace(/(- prefix: "3706"[\s\S]*?\n    rules:\n)/, '$1      frequent-visits:\n        params: { at_least: 3 }\n');

  it('a city adopts a rule with one entry, with its own parameters; the others keep theirs', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', adoptInYantai);
    const report = await runRuleTests(await loadRuleSet(dir), regionalTests());
    expect(report.problems).toEqual([]);
    expect(report.results.map((r) => [r.name, r.failures])).toEqual([
      ['three visits in Yantai reach its own line of three', []],
      ['three visits in Dezhou stay under its line of four', []],
    ]);
  });

  it('without the entry the rule is not in force in Yantai at all (so the entry is what raised its alert)', async () => {
    const report = await runRuleTests(await loadRuleSet(copyRules()), regionalTests());
    expect(report.results.map((r) => r.failures.length > 0)).toEqual([true, false]);
    const set = await loadRuleSet(copyRules());
    expect(set.rules.find((r) => r.spec.id === 'frequent-visits')!.forRegion('370602')).toBeNull();
  });

  it('a longer prefix inherits the shorter one\'s rules and overrides its parameters; outside every prefix nothing holds', async () => {
    const dir = copyRules();
    edit(dir, 'regions.yaml', (t) => `${adoptInYantai(t)}
  - prefix: "37"
    name: 山东省
    source: { document: yantai-joint-inspection-platform.txt, clause: test }
    rules:
      frequent-visits:
        params: { at_least: 5, window_days: 10 }
`);
    const set = await loadRuleSet(dir);
    const rule = set.rules.find((r) => r.spec.id === 'frequent-visits')!;
    expect(rule.forRegion('370602')!.params).toMatchObject({ at_least: 3, window_days: 10 });
    expect(rule.forRegion('371402')!.params).toMatchObject({ at_least: 5, window_days: 10 });
    expect(rule.forRegion('350300')).toBeNull();
    // 云和 331125 keeps 丽水 3311's quiet period and adds its own rules.
    expect([...set.policy!.forRegion('331125').rules.keys()].sort()).toEqual([
      'advance-notice', 'annual-cap', 'entry-without-scan', 'leader-visit-unfiled', 'no-plan', 'onsite-after-clean-offsite', 'plan-overlap', 'quiet-period',
    ]);
    expect([...set.policy!.forRegion('331102').rules.keys()]).toEqual(['quiet-period']);
    expect([...set.policy!.forRegion('440300').rules.keys()]).toEqual([]);
  });

  it('complaints go to the feed where the map says so: complaint-received is in force there and nowhere else', async () => {
    const set = await loadRuleSet(copyRules());
    const complaints = set.rules.find((r) => r.spec.id === 'complaint-received')!;
    expect(complaints.forRegion('371402')).not.toBeNull();
    expect(complaints.forRegion('370602')).not.toBeNull();
    expect(complaints.forRegion('350302')).toBeNull();
    expect(set.policy!.forRegion('350302').complaintsTo).toEqual(['hotline']);
    expect(set.policy!.forRegion('371402').complaintsTo).toEqual(['feed']);
  });
});

describe('a rule set compiled again from its sources (what a backtest\'s slice thread does)', () => {
  it('is the same set, though its directory has changed or gone since', async () => {
    const dir = copyRules();
    const loaded = await loadRuleSet(dir);
    const files = Object.keys(loaded.sources);
    // Every file it was compiled from, and nothing else: the rules, the library and the map (the shipped calendar
    // directory holds no file: its holidays come from chinese-days).
    expect(files).toContain(join(dir, 'frequent-visits.yaml'));
    expect(files).toContain(join(dir, 'regions.yaml'));
    expect(files).toContain(join(dir, 'lib', 'common.yaml'));
    expect(files).toHaveLength(loaded.rules.length + 2);
    expect(files.every((f) => f.endsWith('.yaml') || f.endsWith('.yml'))).toBe(true);

    edit(dir, 'frequent-visits.yaml', (text) => text.replace(/version: \d+/, 'version: 99'));
    rmSync(join(dir, 'regions.yaml'));
    const again = await loadRuleSet(dir, loaded.sources);
    expect(again.digest).toBe(loaded.digest);
    expect(again.sources).toEqual(loaded.sources);
    expect(again.rules.map((r) => [r.spec.id, r.spec.version, r.placement])).toEqual(loaded.rules.map((r) => [r.spec.id, r.spec.version, r.placement]));
    expect(again.policy!.forRegion('371402')).toEqual(loaded.policy!.forRegion('371402'));

    // From the disk as it is now, it is another set.
    const now = await loadRuleSet(dir);
    expect(now.digest).not.toBe(loaded.digest);
    expect(now.rules.find((r) => r.spec.id === 'frequent-visits')!.spec.version).toBe(99);
    expect(now.policy).toBeNull();
  });
});

describe('the shipped rule files', () => {
  it('rules/schema.json, rules/lib/schema.json and rules/regions.schema.json are what `qingjian rules schema` generates now', () => {
    const generated = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;
    expect(readFileSync(join(shipped, 'schema.json'), 'utf8')).toBe(generated(ruleJsonSchema()));
    expect(readFileSync(join(shipped, 'lib', 'schema.json'), 'utf8')).toBe(generated(libraryJsonSchema()));
    expect(readFileSync(join(shipped, 'regions.schema.json'), 'utf8')).toBe(generated(policyMapJsonSchema()));
  });

  it('every rule and library file names its schema for editors on its first line', () => {
    const files = [
      ...readdirSync(shipped).filter((f) => f.endsWith('.yaml') && f !== 'regions.yaml').map((f) => join(shipped, f)),
      ...readdirSync(join(shipped, 'lib')).filter((f) => f.endsWith('.yaml')).map((f) => join(shipped, 'lib', f)),
    ];
    expect(files.length).toBe(18);
    for (const file of files) expect(readFileSync(file, 'utf8').split('\n')[0], file).toBe('# yaml-language-server: $schema=./schema.json');
    expect(readFileSync(join(shipped, 'regions.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./regions.schema.json');
  });

  it('every rule cites a document that exists in ../shared/policy-sources', async () => {
    const sources = resolve(root, '..', 'shared', 'policy-sources');
    const set = await loadRuleSet(shipped);
    expect(set.rules).toHaveLength(17);
    for (const { spec } of set.rules) {
      const path = join(sources, spec.source.document);
      expect(existsSync(path), `${spec.id} cites ${path}`).toBe(true);
      expect(statSync(path).size, path).toBeGreaterThan(0);
    }
  });
});

describe('the rule test runner catches wrong tests', () => {
  async function failuresAfter(file: string, change: (text: string) => string) {
    const dir = copyRules();
    edit(dir, join('tests', file), change);
    const report = await runRuleTests(await loadRuleSet(dir));
    expect(report.problems).toEqual([]);
    return report.results.filter((r) => r.failures.length > 0).map((r) => ({ name: r.name, failures: r.failures }));
  }

  it('an expected count that is wrong', async () => {
    const failed = await failuresAfter('frequent-visits.test.yaml', (t) => t.replace('count: 4\n        evidence: [v1, v2, v3, v4]', 'count: 5\n        evidence: [v1, v2, v3, v4]'));
    expect(failed.map((f) => f.name)).toEqual(['德州 4次/15天: four visits by four agencies within 15 days raise one alert']);
    expect(failed[0]!.failures[0]).toMatch(/^missing .*"count":5/);
  });

  it('expected evidence that is wrong', async () => {
    const failed = await failuresAfter('annual-cap.test.yaml', (t) => t.replace('        evidence: [i1, i2, i3]\n        figures: { count: 3, limit: 2', '        evidence: [i1, i2]\n        figures: { count: 3, limit: 2'));
    expect(failed.map((f) => f.name)).toEqual(['云和(二)四 / (六) C类不得高于2次: a third on-site visit by one agency in the year raises the alert']);
    expect(failed[0]!.failures).toEqual([expect.stringMatching(/^missing .*"evidence":\["i1","i2"\]/), expect.stringMatching(/^unexpected .*"evidence":\["i1","i2","i3"\]/), expect.stringMatching(/^alerts produced: /)]);
  });

  it('an alert nobody expected', async () => {
    const failed = await failuresAfter('annual-cap.test.yaml', (t) => t.replace('    expect:\n      - { count: 2, evidence: [b1, b2], figures: { limit: 1, grade: B } }', '    expect: []'));
    expect(failed.map((f) => f.name)).toEqual(['云和(六) B类每年不得高于1次 (reading: per agency): a second visit by one agency raises the alert']);
    expect(failed[0]!.failures[0]).toMatch(/^unexpected .*"evidence":\["b1","b2"\]/);
  });

  it('a test file naming a rule that does not exist is a problem', async () => {
    const dir = copyRules();
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'x.test.yaml'), 'rule: no-such-rule\ncases:\n  - { name: n, now: 2026-03-20T18:00:00+08:00, expect: [] }\n');
    const report = await runRuleTests(await loadRuleSet(dir), join(dir, 'more'));
    expect(report.problems).toEqual([problem(dir, 'more/x.test.yaml', 1, 'rule', /no rule "no-such-rule"/)]);
  });

  describe('filings written short', () => {
    // A 云和 company: filings (备案/报备) are that county's.
    const header = 'rule: no-plan\ncompanies:\n  - { enterprise_id: "913311250000090011", name: 云和测试企业, region: "331125", credit_grade: C }\ncases:\n';
    const run = async (events: string) => {
      const dir = copyRules();
      mkdirSync(join(dir, 'more'));
      writeFileSync(join(dir, 'more', 'f.test.yaml'), `${header}  - name: filings\n    now: 2026-11-25T18:00:00+08:00\n    events:\n${events}    expect: []\n`);
      return { dir, report: await runRuleTests(await loadRuleSet(dir), join(dir, 'more')) };
    };

    it('are valid filings with the defaults, a visit date and any field given', async () => {
      const { report } = await run([
        '      - { id: f1, type: filing, at: -2d }\n',
        '      - { id: f2, type: filing, at: -1d, visit: +3d, kind: research, filed_with: county_party_government_offices }\n',
        '      - { id: f3, type: filing, at: -1d, visit: 2026-11-30, approved_by: head-2, plan_id: p-7 }\n',
      ].join(''));
      expect(report.problems).toEqual([]);
      expect(report.results).toEqual([expect.objectContaining({ name: 'filings', failures: [] })]);
    });

    it('report a bad visit date or field by its path instead of crashing', async () => {
      const { dir, report } = await run('      - { id: f1, type: filing, at: -2d, visit: soon }\n      - { id: f2, type: plan, at: -2d, window: [0d, later] }\n');
      expect(report.problems).toEqual([
        problem(dir, 'more/f.test.yaml', 8, 'cases.0.events.0.visit', /date YYYY-MM-DD or a day offset/),
        problem(dir, 'more/f.test.yaml', 9, 'cases.0.events.1.window.1', /date YYYY-MM-DD or a day offset/),
      ]);
      const wrongOffice = await run('      - { id: f1, type: filing, at: -2d, filed_with: mayor }\n');
      expect(wrongOffice.report.problems).toEqual([problem(wrongOffice.dir, 'more/f.test.yaml', 8, 'cases.0.events.0.filed_with', /county_enforcement_office/)]);
    });
  });
});
