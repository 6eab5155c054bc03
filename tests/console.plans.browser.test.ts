import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { checkin, creditCode, plan } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/**
 * 检查计划 in a real headless Chromium against the real service: the weekly review of 海曙's plans
 * (GET /v1/plans/review) per agency, carried out or not, and no tab for those who may not read alerts.
 */
let service: TestService;
let browser: Browser;
const tabs: ConsolePage[] = [];
const REGION = '330203';
const unexpected = (errors: string[]) => errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource/.test(e));

async function signedInAs(role: string): Promise<ConsolePage> {
  const res = await post(`${service.url}/v1/tokens`, { name: `检查计划测试-${role}`, role });
  expect(res.status).toBe(201);
  const tab = await openPage(browser, `${service.url}/#token=${encodeURIComponent(res.body.token)}`);
  tabs.push(tab);
  return tab;
}

const [done, missed] = [creditCode(REGION, 3101), creditCode(REGION, 3102)];
const planned = { region: REGION, source: 'haishu-plans', agency_id: '330203-SCJG', window_start: '2025-08-11', window_end: '2025-08-15', occurred_at: '2025-08-01T10:00:00+08:00' };
const carried = plan({ ...planned, enterprise_ids: [done] });
const dropped = plan({ ...planned, enterprise_ids: [missed] });

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  expect((await put(`${service.url}/v1/agencies`, { agency_id: '330203-SCJG', name: '宁波市海曙区市场监督管理局', region: REGION, kind: 'market_regulation' })).status).toBe(200);
  for (const [id, name] of [[done, '海曙示例纺织有限公司'], [missed, '海曙示例电器有限公司']]) {
    expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name, region: REGION, credit_grade: 'C' })).status).toBe(200);
  }
  const visit = checkin({ region: REGION, source: 'haishu-app', enterprise_id: done, agency_id: '330203-SCJG', officer_ids: ['330203-SCJG-001'], occurred_at: '2025-08-13T10:00:00+08:00', plan_id: carried.id });
  expect((await post(`${service.url}/v1/events`, [carried, dropped, visit])).status).toBe(202);
  await eventually(async () => {
    const res = await get(`${service.url}/v1/plans/review?region=${REGION}&week=2025-W33`);
    return res.body.agencies?.[0]?.carried_out === 1 ? true : undefined;
  }, 30_000, 'plans and the visit stored');
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const tab of tabs) await tab.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await service?.dispose();
});

describe('the console shows the weekly review of plans', () => {
  it('lists an agency\'s tasks of the week, carried out or not, with its counts', async () => {
    const { page, errors } = await signedInAs('justice');
    await page.locator('#tab-plans', { hasText: '检查计划' }).click();
    const view = page.locator('#plans-view');
    await view.waitFor();
    expect(page.url()).toBe(`${service.url}/#plans`);
    // The current week by default; another one is chosen in the form.
    expect(await view.locator('input[name="week"]').inputValue()).toMatch(/^\d{4}-W\d{2}$/);
    await view.locator('input[name="region"]').fill(REGION);
    await view.locator('input[name="week"]').fill('2025-W33');
    await view.locator('button[type="submit"]').click();
    const card = view.locator('.review-agency[data-agency="330203-SCJG"]');
    await card.waitFor({ timeout: 15_000 });
    expect(await view.locator('#review-heading').textContent()).toBe('2025-W33 周执行回看（2025-08-11 至 2025-08-17）');
    expect(await card.locator('h3').textContent()).toBe('宁波市海曙区市场监督管理局');
    expect(await card.locator('.review-counts').textContent()).toBe('计划 2 项 · 已执行 1 · 未执行 1 · 已撤销 0 · 执行率 50%');
    const row = (id: string) => card.locator(`tr[data-plan="${id}"]`);
    expect(await row(carried.id).getAttribute('data-status')).toBe('carried_out');
    expect(await row(carried.id).textContent()).toContain('海曙示例纺织有限公司');
    expect(await row(carried.id).textContent()).toContain('2025-08-13 10:00');
    expect(await row(dropped.id).textContent()).toContain('未执行');
    expect(unexpected(errors)).toEqual([]);
  });

  it('keeps a malformed region in the form instead of asking the service', async () => {
    const { page } = await signedInAs('discipline');
    await page.locator('#tab-plans').click();
    const view = page.locator('#plans-view');
    await view.locator('input[name="week"]').fill('2025-W33');
    await view.locator('input[name="region"]').fill('3x');
    // The browser's own check stops a malformed region: the request is not even sent.
    await view.locator('button[type="submit"]').click();
    expect(await view.locator('input[name="region"]').evaluate((e) => (e as HTMLInputElement).validity.valid)).toBe(false);
  });

  it('has no 检查计划 for 12345 staff, whose token may not read alerts', async () => {
    const { page, errors } = await signedInAs('hotline');
    await page.locator('#tab-plans').waitFor({ state: 'hidden', timeout: 15_000 });
    expect(unexpected(errors)).toEqual([]);
  });
});
