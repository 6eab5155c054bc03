import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { checkin, complaint, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { createToken, eventually, get, post, put, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * The console as each of its users meets it, in a real headless Chromium
 * against the real service: every role lands on its own view and sees only
 * what it may use; names stand where codes stood (officers' too); the list
 * searches by company and by officer, narrows by date and pages past its first page; an export holds the API's rows; an
 * alert prints as a 预警处置单.
 */
const YANTAI = '370602';
const YANTAI_SCJG = '370600-SCJG';
const AGENCY_NAME = '烟台市市场监督管理局';
const COMPANIES = 110;
const SPECIAL = '烟台鲁信食品有限公司';
// Every visit is 张建国's but the special company's, which is 李秀英's.
const ZHANG = { officer_id: `${YANTAI_SCJG}-001`, name: '张建国', agency_id: YANTAI_SCJG };
const LI = { officer_id: `${YANTAI_SCJG}-002`, name: '李秀英', agency_id: YANTAI_SCJG };
const DAY_A = MID_MONTH_WEEK_AGO;
// Two days earlier: the date range finds the one alert of that day.
const DAY_B = new Date(Date.parse(`${DAY_A}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);

let service: TestService;
let browser: Browser;
const ids: string[] = [];
const pages: ConsolePage[] = [];

const signedIn = (token: string, hash = '') => `${service.url}/${hash ? `#${hash}&` : '#'}token=${encodeURIComponent(token)}`;
/** Pages with window.print() replaced, so a print view can be drawn and read without a dialog in the way. */
async function open(token: string, hash = ''): Promise<Page> {
  const tab = await openPage(browser, 'about:blank');
  pages.push(tab);
  await tab.page.addInitScript(() => { window.print = () => { document.body.dataset.printed = 'yes'; }; });
  await tab.page.goto(signedIn(token, hash));
  return tab.page;
}
const shown = (page: Page, selector: string) => page.locator(selector).isVisible();

beforeAll(async () => {
  service = await startTestService();
  expect((await put(`${service.url}/v1/agencies`, [{ agency_id: YANTAI_SCJG, name: AGENCY_NAME, region: '370600', kind: 'market_regulation' }])).status).toBe(200);
  expect((await put(`${service.url}/v1/officers`, [ZHANG, LI])).status).toBe(200);
  const companies = Array.from({ length: COMPANIES }, (_, i) => ({
    enterprise_id: creditCode(YANTAI, 900 + i), name: i === 0 ? SPECIAL : `烟台测试${i}号商贸有限公司`, region: YANTAI, credit_grade: 'C',
  }));
  ids.push(...companies.map((c) => c.enterprise_id));
  expect((await put(`${service.url}/v1/enterprises`, companies)).status).toBe(200);
  // An entry scan with no plan on file is a no-plan alert in 烟台: the special company's two days before the others'.
  const entries = companies.map((c, i) => checkin({
    enterprise_id: c.enterprise_id, region: YANTAI, source: 'yantai-platform', agency_id: YANTAI_SCJG, officer_ids: [(i === 0 ? LI : ZHANG).officer_id],
    occurred_at: shanghaiAt(i === 0 ? DAY_B : DAY_A, `10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`),
  }));
  expect((await post(`${service.url}/v1/events`, entries)).status).toBe(202);
  expect((await post(`${service.url}/v1/events`, [complaint({
    enterprise_id: ids[1], region: YANTAI, agency_id: YANTAI_SCJG, occurred_at: shanghaiAt(DAY_A, '15:00:00'), text: '检查人员未出示执法证件，也未扫码亮证。',
  })])).status).toBe(202);
  await eventually(async () => {
    const alerts = await get(`${service.url}/v1/alerts?rule=no-plan&limit=1000`);
    const tickets = await get(`${service.url}/v1/hotline/tickets`);
    return alerts.body?.items?.length === COMPANIES && tickets.body?.items?.length > 0 ? true : undefined;
  }, 60_000, 'the alerts and the ticket');
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const tab of pages) await tab.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await service?.stop();
});

describe('each role lands on its own view and sees only what it may use', () => {
  it('12345 staff land on the ticket queue, with no feed, no rules and no connection light; companies by name', async () => {
    const { token } = await createToken(service.url, 'hotline');
    const page = await open(token);
    const row = page.locator('#ticket-rows > tr').first();
    await row.waitFor({ timeout: 15_000 });
    expect(await shown(page, '#hotline-view')).toBe(true);
    expect(await shown(page, '#feed-view')).toBe(false);
    for (const tab of ['#tab-feed', '#tab-plans', '#tab-justice', '#tab-report', '#tab-coordination', '#tab-rules']) expect(await shown(page, tab)).toBe(false);
    expect(await shown(page, '#connection')).toBe(false);
    expect(await page.locator('#who').textContent()).toContain('12345 热线');
    // The company's name where its credit code stood, the code on hover.
    const company = row.locator('.name').first();
    await expect.poll(() => company.textContent()).toBe('烟台测试1号商贸有限公司');
    expect(await company.getAttribute('title')).toBe(ids[1]);
    // Asking for the feed by address shows the queue instead of a refusal.
    await page.goto(`${service.url}/#feed`);
    await page.locator('#ticket-rows > tr').first().waitFor({ timeout: 15_000 });
    expect(await shown(page, '#feed-view')).toBe(false);
    expect(await page.locator('.notice[data-kind="error"]:visible').count()).toBe(0);
  });

  it('the justice bureau lands on 执法监督 and reads the alerts: no 签收, no 暂停提醒, no queue', async () => {
    const { token } = await createToken(service.url, 'justice');
    const page = await open(token);
    await page.locator('#justice-view').waitFor({ timeout: 15_000 });
    expect(await shown(page, '#feed-view')).toBe(false);
    expect(await shown(page, '#connection')).toBe(false);
    await page.click('#tab-feed');
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
    expect(await shown(page, '#connection')).toBe(true);
    expect(await shown(page, '#tab-hotline')).toBe(false);
    expect(await shown(page, '#open-silences')).toBe(false);
    expect(await page.locator('#who').textContent()).toContain('司法局');
    await page.locator('#alert-list > li .row-main').first().click();
    await page.locator('#alert-detail .detail-section').first().waitFor();
    expect(await page.locator('#alert-detail button[data-action="ack"]').isVisible()).toBe(false);
    expect(await page.locator('#alert-detail button[data-action="silence"]').count()).toBe(0);
    expect(await page.locator('#alert-detail button[data-action="print"]').isVisible()).toBe(true);
  });

  it('the discipline commission lands on the alerts with 签收 and 暂停提醒, and no queue', async () => {
    const { token } = await createToken(service.url, 'discipline');
    const page = await open(token);
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
    expect(await shown(page, '#tab-hotline')).toBe(false);
    expect(await shown(page, '#tab-rules')).toBe(true);
    expect(await shown(page, '#open-silences')).toBe(true);
    await page.locator('#alert-list > li .row-main').first().click();
    await page.locator('#alert-detail button[data-action="ack"]', { hasText: '签收' }).waitFor();
  });

  it('the coordination office (统筹) lands on 计划统筹, with the feed to read and no queue', async () => {
    const { token } = await createToken(service.url, 'coordination');
    const page = await open(token);
    await page.locator('#coordination-view').waitFor({ timeout: 15_000 });
    expect(await shown(page, '#tab-hotline')).toBe(false);
    expect(await shown(page, '#tab-justice')).toBe(false);
    expect(await shown(page, '#tab-feed')).toBe(true);
    expect(await page.locator('#who').textContent()).toContain('统筹');
  });

  it('the administrator sees every view', async () => {
    const page = await open(TEST_TOKEN);
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
    for (const tab of ['#tab-feed', '#tab-hotline', '#tab-plans', '#tab-justice', '#tab-report', '#tab-coordination', '#tab-rules']) expect(await shown(page, tab)).toBe(true);
    expect(await page.locator('#who').textContent()).toContain('管理员');
  });
});

describe('a 12345 ticket', () => {
  it('shows its dated number, and is called back (回访) before it is closed (办结)', async () => {
    // The person on the phone signs in with a token of their own: the callback is recorded under their name.
    const { token } = await createToken(service.url, 'hotline', { name: '赵敏', unit: '12345热线' });
    const page = await open(token);
    await page.locator('#who', { hasText: '赵敏 · 12345热线' }).waitFor();
    const row = page.locator('#ticket-rows > tr').first();
    await row.waitFor({ timeout: 15_000 });
    const id = await row.getAttribute('data-id');
    const { number } = (await get(`${service.url}/v1/hotline/tickets/${id}`)).body;
    expect(number).toMatch(/^12345-\d{8}-\d{4}$/);
    expect(await row.locator('.ticket-number').textContent()).toBe(number);
    await row.locator('button.link').click();
    const detail = page.locator('#ticket-detail');
    await detail.locator('button[data-action="claim"]').click();
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已认领' }).waitFor({ timeout: 15_000 });
    // 办结 waits for the callback.
    await expect.poll(() => detail.locator('button[data-action="resolve"]').isDisabled()).toBe(true);
    await detail.locator('select[name="satisfaction"]').selectOption('basically_satisfied');
    await detail.locator('textarea[name="callback-note"]').fill('来电人对处理结果基本满意');
    await detail.locator('button[data-action="callback"]').click();
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已回访（基本满意）' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => detail.locator('button[data-action="resolve"]').isDisabled()).toBe(false);
    await detail.locator('select[name="outcome"]').selectOption('substantiated');
    await detail.locator('textarea[name="resolve-note"]').fill('经核查属实，已责令整改');
    await detail.locator('button[data-action="resolve"]').click();
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已办结' }).waitFor({ timeout: 15_000 });
    const closed = (await get(`${service.url}/v1/hotline/tickets/${id}`)).body;
    expect(closed).toMatchObject({ state: 'resolved', outcome: 'substantiated', callback: { by: '赵敏', satisfaction: 'basically_satisfied' } });
    expect(closed.history.map((c: { action: string }) => c.action)).toEqual(['opened', 'claimed', 'callback', 'resolved']);
  });
});

describe('the alert list', () => {
  let page: Page;
  const rowIds = () => page.locator('#alert-list > li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id!));

  beforeAll(async () => {
    page = await open(TEST_TOKEN);
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
  });

  it('shows the company, agency and region by name, codes on hover, and 一至四级 levels', async () => {
    const row = page.locator('#alert-list > li').first();
    await expect.poll(() => row.locator('.row-agency').textContent()).toBe(AGENCY_NAME);
    expect(await row.locator('.row-agency').getAttribute('title')).toBe(YANTAI_SCJG);
    await expect.poll(() => row.locator('.row-region').textContent()).toBe('烟台市芝罘区');
    expect(await row.locator('.row-region').getAttribute('title')).toBe(YANTAI);
    const company = row.locator('.row-enterprise');
    await expect.poll(async () => (await company.textContent())?.endsWith('有限公司')).toBe(true);
    expect(ids).toContain(await company.getAttribute('title'));
    expect(['一级', '二级', '三级', '四级', '提示']).toContain(await row.locator('.sev-badge').textContent());
    // Regions and agencies are picked by name in the filters.
    expect(await page.locator('#feed-filters select[name="region"] option[value="370602"]').textContent()).toContain('芝罘区');
    await page.locator(`#feed-filters select[name="agency"] option[value="${YANTAI_SCJG}"]`).waitFor({ state: 'attached' });
  });

  it("shows an alert's 执法人员 by name, the number on hover", async () => {
    // The newest no-plan alert is one of 张建国's visits.
    await page.locator('#alert-list > li[data-rule="no-plan"] .row-main').first().click();
    const officer = page.locator(`#alert-detail .name[data-code="${ZHANG.officer_id}"]`).first();
    await expect.poll(() => officer.textContent(), { timeout: 15_000 }).toBe(ZHANG.name);
    expect(await officer.getAttribute('title')).toBe(ZHANG.officer_id);
  });

  it('pages past its first page', async () => {
    // The no-plan alerts and the complaint's own alert.
    const all = (await get(`${service.url}/v1/alerts?mode=active&limit=1000`)).body.items.length;
    expect(all).toBeGreaterThan(COMPANIES);
    expect((await rowIds()).length).toBe(100);
    await page.click('#feed-more');
    await expect.poll(async () => (await rowIds()).length, { timeout: 30_000 }).toBe(all);
    expect(new Set(await rowIds()).size).toBe(all);
    expect(await page.locator('#feed-more').isVisible()).toBe(false);
  });

  it('finds a company by name, an officer by name, and narrows by date', async () => {
    const special = (await get(`${service.url}/v1/alerts?enterprise=${ids[0]}`)).body.items[0].id;
    const search = page.locator('#feed-filters input[name="enterprise"]');
    await search.fill('鲁信');
    await page.locator(`#enterprise-options option[value="${ids[0]}"]`).waitFor({ state: 'attached' });
    await search.fill(SPECIAL);
    await search.dispatchEvent('change');
    await expect.poll(rowIds, { timeout: 30_000 }).toEqual([special]);
    await page.click('#clear-filters');
    await expect.poll(async () => (await rowIds()).length, { timeout: 30_000 }).toBe(100);

    // An officer by name: offered as it is typed, then the list narrows to the alerts naming the officer.
    const officer = page.locator('#feed-filters input[name="officer"]');
    await officer.fill('秀英');
    await page.locator(`#officer-options option[value="${LI.officer_id}"]`).waitFor({ state: 'attached' });
    await officer.fill(LI.name);
    await officer.dispatchEvent('change');
    await expect.poll(rowIds, { timeout: 30_000 }).toEqual([special]);
    await page.click('#clear-filters');
    await expect.poll(async () => (await rowIds()).length, { timeout: 30_000 }).toBe(100);

    await page.fill('#feed-filters input[name="from"]', DAY_B);
    await page.fill('#feed-filters input[name="to"]', DAY_B);
    await page.locator('#feed-filters input[name="to"]').dispatchEvent('change');
    await expect.poll(rowIds, { timeout: 30_000 }).toEqual([special]);
    await page.fill('#feed-filters input[name="from"]', DAY_A);
    await page.fill('#feed-filters input[name="to"]', DAY_A);
    await page.locator('#feed-filters input[name="to"]').dispatchEvent('change');
    await expect.poll(async () => (await rowIds()).length, { timeout: 30_000 }).toBe(100);
    expect(await rowIds()).not.toContain(special);
    await page.click('#clear-filters');
  });

  it('exports the filtered list with the rows the API lists, names beside codes', async () => {
    await page.selectOption('#feed-filters select[name="region"]', YANTAI);
    await page.fill('#feed-filters input[name="from"]', DAY_A);
    await page.locator('#feed-filters input[name="from"]').dispatchEvent('change');
    await expect.poll(async () => (await rowIds()).length, { timeout: 30_000 }).toBe(100);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#feed-view button[data-export="csv"]')]);
    expect(download.suggestedFilename()).toMatch(/^预警清单-\d{8}\.csv$/);
    const text = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const [header, ...lines] = text.trim().split('\r\n').map((l) => l.split(','));
    expect(header!.slice(0, 7)).toEqual(['预警编号', '预警级别', '规则', '规则编号', '状态', '企业', '统一社会信用代码']);
    const api = (await get(`${service.url}/v1/alerts?mode=active&region=${YANTAI}&from=${DAY_A}&limit=1000`)).body.items as Array<{ id: string; enterprise_id: string }>;
    expect(api.length).toBeGreaterThan(100);
    expect(lines.map((l) => l[0])).toEqual(api.map((a) => a.id));
    const first = lines[0]!;
    expect(first[6]).toBe(api[0]!.enterprise_id);
    expect(first[5]).toMatch(/有限公司$/);
    expect(first[7]).toBe(AGENCY_NAME);
    expect(first[9]).toBe('烟台市芝罘区');

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#feed-view button[data-export="xlsx"]')]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(await xlsx.path());
    const sheet = book.worksheets[0]!;
    expect(sheet.rowCount).toBe(api.length + 1);
    expect(sheet.getRow(2).getCell(1).value).toBe(api[0]!.id);
    await page.click('#clear-filters');
  });

  it('prints an alert as a 预警处置单 with its evidence and history', async () => {
    await page.locator('#alert-list > li[data-rule="no-plan"] .row-main').first().click();
    await page.locator('#alert-detail .history').waitFor();
    await page.click('#alert-detail button[data-action="print"]');
    await page.locator('body[data-printed="yes"]').waitFor({ state: 'attached' });
    expect(await page.locator('#print-sheet').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'print' });
    const sheet = page.locator('#print-sheet');
    expect(await sheet.isVisible()).toBe(true);
    expect(await page.locator('#alert-list').isVisible()).toBe(false);
    const text = await sheet.textContent();
    expect(text).toContain('预警处置单');
    expect(text).toContain(AGENCY_NAME);
    expect(text).toContain('扫码入企');
    expect(text).toContain('产生预警');
    expect(text).toContain('系统');
    await page.emulateMedia({ media: 'screen' });
  });
});
