import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/rules/load.js';
import { libraryJsonSchema, ruleJsonSchema } from '../src/rules/schema.js';
import { runRuleTests } from '../src/rules/testing.js';
import { qingjianRules as qingjian } from './support/cli.js';

/** `qingjian rules check|test|schema` as a person runs them: the real CLI in a child process. */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const work = mkdtempSync(join(tmpdir(), 'qingjian-rules-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


function copyRules(name: string, change?: { file: string; from: string; to: string }): string {
  const dir = join(work, name);
  cpSync(join(root, 'rules'), dir, { recursive: true });
  if (change) {
    const path = join(dir, change.file);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(change.from);
    writeFileSync(path, text.replace(change.from, change.to));
  }
  return dir;
}

const RULE_LINE = /^([a-z-]+)@(\d+) (threshold|absence|calendar|cap|presence|score|duration|together|execution|overlap) (active|shadow) (advice|info|low|medium|high|critical) ([a-z,]+|-)$/;

describe('qingjian rules check', () => {
  it('lists the seventeen shipped rules, one line each, then where the holidays come from, then which rules hold where, and exits 0', async () => {
    const run = await qingjian('check');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const all = run.stdout.trimEnd().split('\n');
    // The holiday lines (tests/calendar.test.ts) follow the rules; a warning about next year depends on today's date.
    const lines = all.slice(0, all.findIndex((l) => l.startsWith('holidays ')));
    const regions = all.findIndex((l) => l.startsWith('region '));
    expect(regions).toBeGreaterThan(lines.length);
    expect(all.slice(lines.length, regions).every((l) => /^(holidays \S+ \S+|warning: )/.test(l)), run.stdout).toBe(true);
    expect(all[lines.length]).toMatch(/^holidays 2004-20\d\d chinese-days$/);
    expect(lines.every((l) => RULE_LINE.test(l)), run.stdout).toBe(true);
    expect(lines.map((l) => RULE_LINE.exec(l)![1])).toEqual([
      'abnormal-duration', 'advance-notice', 'annual-cap', 'complaint-received', 'deregistered-company', 'entry-without-scan',
      'exit-without-scan', 'frequent-visits', 'joint-not-together', 'leader-visit-unfiled', 'low-satisfaction', 'no-plan',
      'onsite-after-clean-offsite', 'plan-not-executed', 'plan-overlap', 'quiet-period', 'result-overdue',
    ]);
    expect(lines).toContain('frequent-visits@2 threshold active high feed');
    // A rule routed per region prints its default channels (low-satisfaction: 烟台 adds the hotline in the policy map).
    expect(lines).toContain('low-satisfaction@1 score active medium feed');
    // The policy map (rules/regions.yaml): the rules in force per prefix, a longer prefix adding to a shorter one.
    expect(all.slice(regions)).toEqual([
      'region 3714 德州市: abnormal-duration, complaint-received, entry-without-scan, exit-without-scan, frequent-visits, low-satisfaction',
      'region 3706 烟台市: complaint-received, entry-without-scan, low-satisfaction, no-plan, plan-overlap',
      'region 3503 莆田市: no-plan, result-overdue',
      'region 330203 宁波市海曙区: deregistered-company, joint-not-together, no-plan, plan-not-executed, plan-overlap',
      'region 3311 丽水市: quiet-period',
      'region 331125 丽水市云和县: advance-notice, annual-cap, entry-without-scan, leader-visit-unfiled, no-plan, onsite-after-clean-offsite, plan-overlap, quiet-period',
    ]);
  });

  it('prints every problem of a broken directory as file:line: field: message and exits 1', async () => {
    const dir = copyRules('broken', { file: 'annual-cap.yaml', from: 'version: 2', to: 'version: "one"' });
    const run = await qingjian('check', '--dir', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const file = relative(root, join(dir, 'annual-cap.yaml'));
    expect(run.stderr.trimEnd().split('\n')).toEqual([`${file}:3: version: Invalid input: expected number, received string`]);
  });

  it('refuses a directory that does not exist instead of reporting zero rules', async () => {
    const run = await qingjian('check', '--dir', join(work, 'nowhere'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not a directory');
  });
});

describe('qingjian rules test', () => {
  let cases = 0;
  beforeAll(async () => {
    cases = (await runRuleTests(await loadRuleSet(join(root, 'rules')))).results.length;
  });

  it('runs every case of the shipped tests and exits 0', async () => {
    const run = await qingjian('test');
    expect(run.code).toBe(0);
    expect(cases).toBeGreaterThan(40);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`${cases} passed, 0 failed`);
    expect(lines.filter((l) => l.startsWith('ok   '))).toHaveLength(cases);
    expect(lines).toContain('ok   frequent-visits: 德州 4次/15天: four visits by four agencies within 15 days raise one alert');
  });

  it('reports a broken expectation as FAIL with the reason indented, and exits 1', async () => {
    const dir = copyRules('wrong-test', { file: 'tests/frequent-visits.test.yaml', from: 'count: 4\n        evidence: [v1, v2, v3, v4]', to: 'count: 5\n        evidence: [v1, v2, v3, v4]' });
    const run = await qingjian('test', '--dir', dir);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    const fail = lines.indexOf('FAIL frequent-visits: 德州 4次/15天: four visits by four agencies within 15 days raise one alert');
    expect(fail).toBeGreaterThanOrEqual(0);
    expect(lines[fail + 1]).toMatch(/^ {7}missing \{.*"count":5/);
    expect(lines.at(-1)).toBe(`${cases - 1} passed, 1 failed`);
  });
});

describe('qingjian rules schema', () => {
  it('prints the rule file schema as pretty JSON with a trailing newline', async () => {
    const run = await qingjian('schema');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(ruleJsonSchema());
    expect(run.stdout).toBe(`${JSON.stringify(ruleJsonSchema(), null, 2)}\n`);
  });

  it('--library prints the library schema, and --out writes the file instead', async () => {
    const out = join(work, 'lib-schema.json');
    const run = await qingjian('schema', '--library', '--out', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(libraryJsonSchema());
  });
});
