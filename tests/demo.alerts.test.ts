import { describe, expect, it } from 'vitest';
import { countDemoAlerts, formatCounts } from '../bench/demo-alerts.js';
import { loadRuleSet } from '../src/rules/load.js';

// `npm run demo:alerts`: the before/after figure of a rule or demo change, so it must repeat exactly and add up.
describe('demo alert counts', async () => {
  const rules = await loadRuleSet('rules');
  const options = { seed: 7, days: 20, to: '2026-04-01', json: false };
  const counts = await countDemoAlerts(options, rules);

  it('repeats for a seed and period, and differs for another seed', async () => {
    expect(await countDemoAlerts(options, rules)).toEqual(counts);
    expect((await countDemoAlerts({ ...options, seed: 8 }, rules)).rows).not.toEqual(counts.rows);
    expect(counts).toMatchObject({ first_day: '2026-03-12', last_day: '2026-03-31', decided_until: '2026-04-15' });
  });

  it('has a row for every rule and columns for every demo city, and the rows add up to the totals', () => {
    expect(counts.regions.map((r) => `${r.prefix} ${r.name}`)).toEqual(['3714 德州', '3706 烟台', '3503 莆田', '3311 丽水', '3302 宁波']);
    for (const rule of rules.rules) expect(counts.rows.some((r) => r.rule === rule.spec.id && r.variant === '')).toBe(true);
    for (const row of counts.rows) expect(Object.values(row.by_region).reduce((a, b) => a + b, 0)).toBe(row.total);
    for (const { prefix } of counts.regions) expect(counts.rows.reduce((n, r) => n + r.by_region[prefix]!, 0)).toBe(counts.totals.by_region[prefix]);
    expect(counts.totals.total).toBeGreaterThan(0);
    expect(counts.events).toBeGreaterThan(1000);
  });

  it('prints one aligned line per row with the totals last', () => {
    const lines = formatCounts(counts).split('\n');
    const table = lines.slice(3);
    expect(table).toHaveLength(counts.rows.length + 2);
    expect(table.at(-1)).toMatch(new RegExp(`^合计 total\\s.*\\s${counts.totals.total}$`));
    expect(new Set(table.map((l) => l.replace(/[\u3000-\u9fff]/g, '..').length)).size).toBe(1);
  });
});
