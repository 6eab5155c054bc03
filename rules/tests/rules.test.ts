import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../src/rules/load.js';
import { runRuleTests } from '../../src/rules/testing.js';

// The rule tests beside the rules (*.test.yaml), one vitest case per YAML case.
const rulesDir = dirname(dirname(fileURLToPath(import.meta.url)));
const ruleSet = await loadRuleSet(rulesDir);
const report = await runRuleTests(ruleSet);

it('every rule test file is valid', () => {
  expect(report.problems).toEqual([]);
});

it('every shipped rule has positive and negative cases', () => {
  for (const { spec } of ruleSet.rules) {
    const cases = report.results.filter((r) => r.rule === spec.id);
    expect(cases.filter((c) => c.expected > 0).length, `${spec.id} positive cases`).toBeGreaterThan(0);
    expect(cases.filter((c) => c.expected === 0).length, `${spec.id} negative cases`).toBeGreaterThan(0);
  }
});

for (const { spec } of ruleSet.rules) {
  describe(spec.id, () => {
    for (const result of report.results.filter((r) => r.rule === spec.id)) {
      it(result.name, () => expect(result.failures).toEqual([]));
    }
  });
}
