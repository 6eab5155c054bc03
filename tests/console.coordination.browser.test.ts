import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, calendarDate } from '../src/calendar/index.js';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { creditCode, plan, uniqueId } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/**
 * 计划统筹 in a real headless Chromium against the real service: two filed
 * plans for one 烟台 company in the same days (their checks stored by the
 * workers), shown by company with the findings and the merge candidate side by
 * side, and one audited suggestion sent by the person on duty.
 */
let service: TestService;
let browser: Browser;
const tabs: ConsolePage[] = [];
const day = (n: number) => addDays(calendarDate(Date.now()), n);
const enterprise = creditCode('370602', 9301);
const p1 = uniqueId('city');
const p2 = uniqueId('county');

/** Errors a browser logs for a refused request (a 403 the page handles) are expected; anything else is not. */
const unexpected = (errors: string[]) => errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource/.test(e));

async function signedInAs(role: string, jurisdiction = '', name = `计划统筹测试-${role}`): Promise<ConsolePage> {
  const res = await post(`${service.url}/v1/tokens`, { name, role, jurisdiction });
  expect(res.status).toBe(201);
  const tab = await openPage(browser, `${service.url}/#token=${encodeURIComponent(res.body.token)}`);
  tabs.push(tab);
  return tab;
}

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  browser = await launchBrowser();
  for (const [agency_id, name, region] of [['370600-SCJG', '烟台市市场监督管理局', '370600'], ['370602-ZHZF', '芝罘区综合行政执法局', '370602']]) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region, kind: 'market_regulation' })).status).toBe(200);
  }
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: enterprise, name: '烟台统筹示例食品有限公司', region: '370602', credit_grade: 'C' })).status).toBe(200);
  const filed = { region: '370602', source: 'yantai-platform', enterprise_ids: [enterprise], occurred_at: new Date().toISOString(), status: 'approved' };
  const sent = await post(`${service.url}/v1/events`, [
    plan({ ...filed, id: p1, agency_id: '370600-SCJG', window_start: day(21), window_end: day(24), matters: ['食品生产安全'] }),
    plan({ ...filed, id: p2, agency_id: '370602-ZHZF', window_start: day(23), window_end: day(28), matters: ['燃气经营安全', '户外广告设施'] }),
  ]);
  expect(sent.status).toBe(202);
  // Both checks stored, each naming the other (the first was checked again when the second came).
  await eventually(async () => {
    const res = await get(`${service.url}/v1/plans/upcoming?region=370602`);
    const mine = res.body.items.filter((i: { enterprise_id: string; merge_candidates: unknown[] }) => i.enterprise_id === enterprise && i.merge_candidates.length === 1);
    return mine.length === 2 ? true : undefined;
  }, 30_000, 'both plans checked');
});

afterAll(async () => {
  for (const tab of tabs) await tab.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await service?.dispose();
});

describe('the coordination office plans inspections in the console', () => {
  it('shows upcoming plans by company with their findings and merge candidates side by side, and sends an audited suggestion', async () => {
    const { page, errors } = await signedInAs('coordination', '3706', '李协调');
    await page.locator('#tab-coordination', { hasText: '计划统筹' }).click();
    const company = page.locator(`#coordination-view .company-plans[data-enterprise="${enterprise}"]`);
    await company.waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${service.url}/#coordination`);
    expect(await company.locator('h2').textContent()).toContain('烟台统筹示例食品有限公司');
    expect(await company.locator('.plan-card').count()).toBe(2);

    const card = company.locator(`.plan-card[data-plan="${p2}"]`);
    expect(await card.locator('header').textContent()).toContain('芝罘区综合行政执法局');
    expect(await card.locator('.verdict').textContent()).toBe('建议调整');
    const merge = card.locator('.finding[data-check="merge"]');
    expect(await merge.textContent()).toContain(`${p1}（烟台市市场监督管理局）`);
    expect(await merge.locator('.clause').textContent()).toBe('通过涉企检查计划对比匹配,合并同一段时间内针对同一对象的多次检查');

    // Side by side: the plan, then the candidate with its agency, level, dates, matters and shared days.
    const table = card.locator('table.side-by-side');
    const heads = await table.locator('thead th[data-plan]').evaluateAll((els) => els.map((e) => e.textContent));
    expect(heads).toEqual([`本计划 ${p2}`, `可合并 ${p1}`]);
    const row = async (label: string) => table.locator('tbody tr', { hasText: label }).locator('td').allTextContents();
    expect(await row('执法部门')).toEqual(['芝罘区综合行政执法局', '烟台市市场监督管理局']);
    expect(await row('层级')).toEqual(['县级', '市级']);
    expect(await row('检查时段')).toEqual([`${day(23)} 至 ${day(28)}`, `${day(21)} 至 ${day(24)}`]);
    expect(await row('检查事项')).toEqual(['燃气经营安全、户外广告设施', '食品生产安全']);
    expect(await row('重叠天数')).toEqual(['—', '2']);

    // One 合并检查 suggestion naming p1, sent as the signed-in person (李协调's own token).
    const form = card.locator('form.suggest');
    await form.locator('select[name="action"]').selectOption('merge');
    expect(await form.locator('input[name="with_plan_ids"]').inputValue()).toBe(p1);
    await form.locator('input[name="note"]').fill('两部门同期入企，请合并为联合检查');
    await form.locator('button[type="submit"]').click();
    const sent = page.locator(`#coordination-view .plan-card[data-plan="${p2}"] ul.sent li[data-action="merge"]`);
    await sent.waitFor({ timeout: 15_000 });
    expect(await sent.textContent()).toContain('合并检查 · 李协调');

    const audit = await get(`${service.url}/v1/audit?action=plan.suggest&target_id=${p2}`);
    expect(audit.body.items).toEqual([expect.objectContaining({
      actor: '李协调', actor_role: 'coordination', target_kind: 'plan', note: '两部门同期入企，请合并为联合检查',
      after: expect.objectContaining({ action: 'merge', with_plan_ids: [p1], token_name: '李协调' }),
    })]);
    await page.setViewportSize({ width: 1440, height: 1400 });
    await page.screenshot({ path: '/tmp/console-coordination.png' });
    expect(unexpected(errors)).toEqual([]);
  });

  it('has no 计划统筹 for 12345 staff, whose token may not read plans', async () => {
    const { page, errors } = await signedInAs('hotline');
    await page.locator('#tab-coordination').waitFor({ state: 'hidden', timeout: 15_000 });
    await page.evaluate(() => { location.hash = '#coordination'; });
    await page.waitForFunction(() => location.hash === '#coordination');
    expect(await page.locator('#coordination-view').isHidden()).toBe(true);
    expect(await page.locator('#hotline-view').isVisible()).toBe(true);
    expect(unexpected(errors)).toEqual([]);
  });
});
