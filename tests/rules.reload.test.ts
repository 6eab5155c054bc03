import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { createRuleRegistry } from '../src/rules/registry.js';
import { checkin, creditCode } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

// Reload swaps the whole rule set only when the files validate and their tests pass.
const SHIPPED = join(import.meta.dirname, '..', 'rules');
const copyRules = () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-rules-'));
  cpSync(SHIPPED, dir, { recursive: true });
  return dir;
};
const edit = (dir: string, file: string, change: (text: string) => string) =>
  writeFileSync(join(dir, file), change(readFileSync(join(dir, file), 'utf8')));

describe('the registry', () => {
  it('picks up a saved edit, keeps the last good set on a broken one, and recovers', async () => {
    const dir = copyRules();
    const registry = await createRuleRegistry(dir, createLogger('silent'), { watch: true });
    try {
      const first = registry.status().digest;
      edit(dir, 'annual-cap.yaml', (t) => t.replace('version: 2', 'version: 3'));
      await eventually(async () => (registry.status().digest !== first ? true : undefined), 10_000, 'reload on save');
      expect(registry.current().rules.find((r) => r.spec.id === 'annual-cap')!.spec.version).toBe(3);
      const good = registry.status().digest;

      edit(dir, 'annual-cap.yaml', (t) => t.replace('period: year', 'period: [year'));
      const failure = await eventually(async () => registry.status().last_error ?? undefined, 10_000, 'reload error');
      expect(failure.message).toMatch(/annual-cap\.yaml:\d+/);
      expect(registry.status().digest).toBe(good);
      expect(registry.current().rules).toHaveLength(17);

      edit(dir, 'annual-cap.yaml', (t) => t.replace('period: [year', 'period: year'));
      await eventually(async () => (registry.status().last_error === null ? true : undefined), 10_000, 'recovered');
    } finally {
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an edit that breaks the rule tests beside it', async () => {
    const dir = copyRules();
    const registry = await createRuleRegistry(dir, createLogger('silent'));
    try {
      edit(dir, 'frequent-visits.yaml', (t) => t.replace('at_least: 4', 'at_least: 3'));
      const outcome = await registry.reload();
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.error).toContain('three visits by three agencies within 15 days are under the line');
      expect(registry.current().rules.find((r) => r.spec.id === 'frequent-visits')!.forRegion('371400')!.params.at_least).toBe(4);
    } finally {
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a running service', () => {
  let service: TestService;
  let dir: string;
  beforeAll(async () => {
    dir = copyRules();
    service = await startTestService({ RULES_DIR: dir, RULES_WATCH: 'false', STORE_BATCH_WAIT_MS: '20' });
  });
  afterAll(async () => {
    await service?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on SIGHUP: a rule switched to shadow mode stores shadow alerts under its new version', async () => {
    edit(dir, 'frequent-visits.yaml', (t) => t.replace('version: 2', 'version: 3').replace('mode: active', 'mode: shadow'));
    process.emit('SIGHUP', 'SIGHUP');
    const rules = await eventually(async () => {
      const res = await get(`${service.url}/v1/rules`);
      const rule = res.body.rules.find((r: { id: string }) => r.id === 'frequent-visits');
      return rule.version === 3 ? res.body : undefined;
    }, 10_000, 'version 3 live');
    expect(rules.rules.find((r: { id: string }) => r.id === 'frequent-visits').mode).toBe('shadow');

    const company = creditCode('371402', 900);
    await put(`${service.url}/v1/enterprises`, { enterprise_id: company, name: '影子测试企业', region: '371402', credit_grade: 'C' });
    const base = Date.parse('2026-11-03T10:00:00+08:00');
    // Four agencies in turn, each scanning in and out: four visits, and nothing else wrong in 德州.
    const agencies = ['371400-SCJG', '371400-YJGL', '371400-STHJ', '371400-XFJY'];
    const visits = [0, 2, 4, 6].flatMap((d, i) => ['enter', 'exit'].map((action, j) => checkin({
      enterprise_id: company, agency_id: agencies[i], officer_ids: [`${agencies[i]}-001`], action,
      occurred_at: new Date(base + d * 86_400_000 + j * 3_600_000).toISOString(),
    })));
    expect((await post(`${service.url}/v1/events`, visits)).status).toBe(202);
    const alert = await eventually(async () => {
      const res = await get(`${service.url}/v1/alerts?enterprise=${company}&rule=frequent-visits`);
      return res.body.items[0];
    }, 20_000, 'shadow alert');
    expect(alert).toMatchObject({ mode: 'shadow', rule_version: 3, count: 4 });
    const shadowOnly = await get(`${service.url}/v1/alerts?enterprise=${company}&mode=shadow`);
    expect(shadowOnly.body.items.map((a: { rule_id: string }) => a.rule_id)).toEqual(['frequent-visits']);
  });

  it('exposes a failed reload and keeps serving the last good rule set', async () => {
    // A parameter no region sets (lead_days is set per region, so a bad default of it is named in regions.yaml).
    edit(dir, 'no-plan.yaml', (t) => t.replace('lateness_minutes: 5', 'lateness_minutes: five'));
    process.emit('SIGHUP', 'SIGHUP');
    const res = await eventually(async () => {
      const r = await get(`${service.url}/v1/rules`);
      return r.body.last_error ? r.body : undefined;
    }, 10_000, 'last_error');
    expect(res.last_error.message).toMatch(/no-plan\.yaml:\d+: exemptions\.0\.lateness\.minutes/);
    expect(res.rules).toHaveLength(17);
    const rule = await get(`${service.url}/v1/rules/no-plan`);
    expect(rule.body.params).toMatchObject({ lead_days: 7, lateness_minutes: 5 });
    expect(rule.body.text).toContain('id: no-plan');
  });
});
