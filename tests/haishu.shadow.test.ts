import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadRuleSet } from '../src/rules/load.js';
import { runRuleTests } from '../src/rules/testing.js';

// 海曙's rules tried out in shadow mode, as a city would before adopting them: the same alerts, each one shadow.
// (A rule test expects the rule's own mode unless it names one, so every positive case checks the mode.)
const dir = mkdtempSync(join(tmpdir(), 'qingjian-shadow-'));
cpSync('rules', dir, { recursive: true });
const RULES = ['deregistered-company', 'joint-not-together', 'plan-not-executed'];
for (const id of RULES) {
  const file = join(dir, `${id}.yaml`);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('mode: active');
  writeFileSync(file, text.replace('mode: active', 'mode: shadow'));
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each(RULES)('%s in shadow mode gives the alerts its tests expect, every one of them shadow', async (id) => {
  const set = await loadRuleSet(dir);
  expect(set.rules.find((r) => r.spec.id === id)?.spec.mode).toBe('shadow');
  const report = await runRuleTests(set);
  expect(report.problems).toEqual([]);
  const mine = report.results.filter((r) => r.rule === id);
  expect(mine.filter((r) => r.expected > 0).length).toBeGreaterThan(2);
  expect(mine.filter((r) => r.failures.length > 0)).toEqual([]);
});
