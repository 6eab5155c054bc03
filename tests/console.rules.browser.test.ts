import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { post, startTestService, type TestService } from './support/service.js';

/**
 * 规则适用 in a real headless Chromium against the real service and the
 * shipped policy map (rules/regions.yaml): where each rule holds, the clause
 * and reading there, and a tab only for the roles that may read the rules.
 * The service reads a copy of the shipped rules/ without its tests/: whether
 * the rules fire as their clauses say is rules/tests/'s concern (the service
 * refuses a rule set whose tests fail); this file is about what the console shows.
 */
const rulesDir = mkdtempSync(join(tmpdir(), 'qingjian-console-rules-'));
let service: TestService;
let browser: Browser;
const tabs: ConsolePage[] = [];

/** Errors a browser logs for a refused request (a 403 the page handles) are expected; anything else is not. */
const unexpected = (errors: string[]) => errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource/.test(e));

async function signedInAs(role: string): Promise<ConsolePage> {
  const res = await post(`${service.url}/v1/tokens`, { name: `规则适用测试-${role}`, role });
  expect(res.status).toBe(201);
  const tab = await openPage(browser, `${service.url}/#token=${encodeURIComponent(res.body.token)}`);
  tabs.push(tab);
  return tab;
}

beforeAll(async () => {
  cpSync(join(process.cwd(), 'rules'), rulesDir, { recursive: true, filter: (path) => !path.startsWith(join(process.cwd(), 'rules', 'tests')) });
  service = await startTestService({ RULES_DIR: rulesDir, RULES_WATCH: 'false' }, { api: true, worker: false });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const tab of tabs) await tab.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await service?.dispose();
  rmSync(rulesDir, { recursive: true, force: true });
});

describe('the console shows where each rule holds', () => {
  it('lists each rule with the regions, clauses, readings and parameters in force there', async () => {
    const { page, errors } = await signedInAs('discipline');
    await page.locator('#tab-rules', { hasText: '规则适用' }).click();
    const view = page.locator('#rules-view');
    const quiet = view.locator('.rule-card[data-rule="quiet-period"]');
    await quiet.waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${service.url}/#rules`);
    expect(await page.locator('#feed-view').isHidden()).toBe(true);
    await expect(page.locator('#tab-rules').getAttribute('aria-current')).resolves.toBe('page');

    // quiet-period: 丽水's own system, inherited by 云和; nowhere in 德州.
    await expect(quiet.locator('h2').textContent()).resolves.toBe('企业安静期内入企');
    expect(await quiet.locator('header').textContent()).toContain('quiet-period');
    const lishui = quiet.locator('.place[data-prefix="3311"]');
    await expect(lishui.locator('h3').textContent()).resolves.toBe('3311 丽水市');
    expect(await lishui.textContent()).toContain('yunhe-2025-ten-mechanisms.txt');
    expect(await lishui.locator('.clause').textContent()).toContain('丽水市“企业安静期”制度(试行)');
    expect(await lishui.locator('.place-note', { hasText: '解读' }).textContent()).toContain('默认为每月下旬');
    expect(await lishui.locator('.param-list').textContent()).toContain('安静期（每月日） 21–31');
    const yunhe = quiet.locator('.place[data-prefix="331125"]');
    expect(await yunhe.locator('h3').textContent()).toBe('331125 丽水市云和县（沿用 3311 丽水市）');
    expect(await yunhe.locator('.clause').textContent()).toContain('丽水市“企业安静期”制度(试行)');
    expect(await yunhe.locator('.place-note').count()).toBe(0); // 丽水's reading, listed just above, is not repeated
    expect(await yunhe.locator('.param-list').textContent()).toContain('B类企业安静期（每月日） 16–31');
    expect(await quiet.locator('.place[data-prefix^="3714"]').count()).toBe(0);
    expect(await quiet.textContent()).not.toContain('德州');

    // frequent-visits: 德州 only, with its reading of the 禹城 figure.
    const frequent = view.locator('.rule-card[data-rule="frequent-visits"]');
    const places = await frequent.locator('.place').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.prefix));
    expect(places).toEqual(['3714']);
    const dezhou = frequent.locator('.place[data-prefix="3714"]');
    await expect(dezhou.locator('h3').textContent()).resolves.toBe('3714 德州市');
    expect(await dezhou.locator('.clause').textContent()).toBe('15天到同一个企业4次就会出现预警信息');
    expect(await dezhou.locator('.place-note', { hasText: '解读' }).textContent()).toContain('出自禹城“禹企亲清”平台');
    const params = await dezhou.locator('.param-list').textContent();
    expect(params).toContain('预警阈值（次） 4');
    expect(params).toContain('同一部门预警阈值（次） 3');
    expect(params).toContain('统计窗口（天） 15');

    // no-plan: parameters per region, a region's own value marked against the default.
    const noPlan = view.locator('.rule-card[data-rule="no-plan"]');
    const haishu = noPlan.locator('.place[data-prefix="330203"] .param-list li.local');
    expect(await haishu.textContent()).toBe('提前报备（天） 0');
    expect(await haishu.getAttribute('title')).toBe('lead_days（默认 7）');
    expect(await noPlan.locator('.place[data-prefix="3706"] .param-list').textContent()).toContain('绿色通道 是');

    // One line per region: what holds there; a region is listed only with a rule in force.
    const line = (prefix: string) => view.locator(`.region-lines > li[data-prefix="${prefix}"]`);
    const dezhouLine = await line('3714').textContent();
    expect(dezhouLine).toMatch(/^3714 德州市：/);
    expect(dezhouLine).toContain('频繁入企检查');
    expect(dezhouLine).not.toContain('企业安静期内入企');
    expect(await line('3311').textContent()).toBe('3311 丽水市：企业安静期内入企');
    expect(await line('331125').textContent()).toContain('年度现场检查次数超限');
    expect(await view.locator('.region-lines > li').count()).toBe(6);
    // complaint-received, placed by complaints_to, cites its own clause (德州's code poster).
    const complaints = view.locator('.rule-card[data-rule="complaint-received"] .place[data-prefix="3714"] .clause');
    expect(await complaints.textContent()).toContain('监督举报电话');
    expect(await complaints.evaluate((e) => e.tagName)).toBe('Q');
    expect(await dezhou.locator('.clause').evaluate((e) => e.tagName)).toBe('Q');

    await page.setViewportSize({ width: 1600, height: 2700 });
    await page.screenshot({ path: '/tmp/console-rules.png' });
    expect(unexpected(errors)).toEqual([]);
  });

  it('shows the tab to the justice bureau, which may read the rules', async () => {
    const { page, errors } = await signedInAs('justice');
    await page.locator('#tab-rules').click();
    await page.locator('#rules-view .rule-card[data-rule="annual-cap"]').waitFor({ timeout: 15_000 });
    expect(unexpected(errors)).toEqual([]);
  });

  it('has no 规则适用 for 12345 staff, whose token may not read the rules', async () => {
    const { page, errors } = await signedInAs('hotline');
    const tab = page.locator('#tab-rules');
    await tab.waitFor({ state: 'hidden', timeout: 15_000 });
    // Asked for by address, the view does not open: the role's own (12345 工单) does.
    await page.evaluate(() => { location.hash = '#rules'; });
    await page.waitForFunction(() => location.hash === '#rules');
    expect(await page.locator('#rules-view').isHidden()).toBe(true);
    expect(await page.locator('#hotline-view').isVisible()).toBe(true);
    expect(await page.locator('#rules-view .rule-card').count()).toBe(0);
    // Their own tab still works.
    await page.click('#tab-hotline');
    await page.locator('#hotline-view').waitFor();
    expect(unexpected(errors)).toEqual([]);
  });
});
