import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { loadDemoHistory } from './support/demo-history.js';
import { createToken, eventually, get, startTestService, type TestService } from './support/service.js';

/**
 * 执法监督 and 月度通报 in a real headless Chromium against the real service over a month of demo data, signed
 * in with a justice bureau token: every chart drawn by ECharts with data, every chart's table, one CSV checked
 * against GET /v1/stats, a company's timeline with names beside codes, the monthly report.
 *
 * Screenshots of both views go to docs/ only when asked: QINGJIAN_SCREENSHOTS=1 (npm run screenshots:justice).
 */
const SCREENSHOTS = process.env.QINGJIAN_SCREENSHOTS === '1';
const WORLD = { seed: 26, enterprisesPerRegion: 30, regions: ['371400', '370600', '331125', '330203'], visitsPerDay: 16, idPrefix: 'justice' };
const DAY = 86_400_000;

/** A justice token may not read silences, which the feed asks for: the browser logs that 403, the page handles it. */
const unexpected = (errors: string[]) => errors.filter((e) => !/Failed to load resource: the server responded with a status of 403/.test(e));

let service: TestService;
let browser: Browser;
let tab: ConsolePage;
const tabs: ConsolePage[] = [];

/** The statistics the view charts (src/console/public/js/justice.js), in its order. */
const CHARTED = [
  'inspections-by-day-agency', 'inspections-by-day-district', 'inspections-by-mode', 'joint-rate-by-agency', 'plan-merging-by-agency',
  'filing-ahead-by-week', 'filing-by-agency', 'green-channel-by-agency', 'visits-distribution', 'most-visited', 'breaches-by-rule',
  'breaches-by-region', 'breaches-by-agency', 'time-to-acknowledge-by-rule', 'false-positive-share-by-rule', 'tickets-by-category-state',
  'hotline-sla-by-category', 'joint-and-detection-by-agency', 'low-quality-by-agency-month', 'plan-execution-by-week',
];

/** A CSV as the console writes it (BOM, RFC 4180 quoting, CRLF) → rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const body = text.replace(/^\ufeff/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') field += body[++i];
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && body[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

/** The API's row as the CSV writes it: every value as text, null as an empty field. */
const asCsv = (columns: { name: string }[], row: Record<string, unknown>) => columns.map((c) => (row[c.name] === null ? '' : String(row[c.name])));

beforeAll(async () => {
  service = await startTestService({ RULES_WATCH: 'false' });
  await loadDemoHistory(service, WORLD);
  // Decisions deferred to their deadlines keep changing the alerts for a while: the page and the API are compared
  // once the statistics the tests compare have stood still for 10 s (3 s was once not enough in a full CI run).
  let last = '';
  let since = Date.now();
  await eventually(async () => {
    const now = JSON.stringify(await Promise.all(['breaches-by-rule', 'false-positive-share-by-rule']
      .map(async (stat) => (await get(`${service.url}/v1/stats/${stat}`)).body.rows)));
    if (now !== last) [last, since] = [now, Date.now()];
    if (Date.now() - since >= 10_000) return true;
    await new Promise((r) => setTimeout(r, 2_000));
    return undefined;
  }, 150_000, 'the statistics standing still for 10 s');
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  for (const t of tabs) await t.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await service?.dispose();
});

describe('执法监督', () => {
  let filters: { from: string; to: string };

  it('draws every chart with ECharts, with data, for a justice token', async () => {
    const { token } = await createToken(service.url, 'justice');
    // The link the README gives the justice bureau: the view and the token, which the page takes out of the address.
    tab = await openPage(browser, `${service.url}/#justice&token=${encodeURIComponent(token)}`);
    tabs.push(tab);
    const { page } = tab;
    await page.locator('#justice-view').waitFor({ state: 'visible' });
    expect(page.url()).toBe(`${service.url}/#justice`);
    const cards = page.locator('#justice-charts .stat-card');
    await expect.poll(() => cards.count(), { timeout: 20_000 }).toBe(CHARTED.length);
    await expect.poll(() => page.locator('#justice-charts .stat-card[data-state="loading"]').count(), { timeout: 30_000 }).toBe(0);
    // Every card drawn; one that is not says which and why (its state, and the status line the page shows).
    const notReady = await page.locator('#justice-charts .stat-card:not([data-state="ready"])')
      .evaluateAll((els) => els.map((el) => `${(el as HTMLElement).dataset.stat}: ${(el as HTMLElement).dataset.state} ${el.querySelector('.status')?.textContent ?? ''}`));
    expect(notReady).toEqual([]);

    // ECharts' own model of each chart: the series it drew and how many data points each holds.
    // A string, so the test runner's transform leaves the page's own dynamic import alone: the module the page loaded.
    const drawn: Array<{ stat: string; series: Array<{ type: string; points: number }>; hasValue: boolean }> = await page.evaluate(`(async () => {
      const echarts = await import('/console/vendor/echarts.esm.min.js');
      return [...document.querySelectorAll('#justice-charts .stat-card')].map((card) => {
        const option = echarts.getInstanceByDom(card.querySelector('.chart'))?.getOption();
        const series = option?.series ?? [];
        const value = (d) => (typeof d === 'object' && d !== null ? d.value : d);
        return {
          stat: card.dataset.stat,
          series: series.map((s) => ({ type: s.type, points: s.data.length })),
          hasValue: series.some((s) => s.data.some((d) => typeof value(d) === 'number' && value(d) > 0)),
        };
      });
    })()`);
    expect(drawn.map((d) => d.stat)).toEqual(CHARTED);
    expect(drawn.filter((d) => d.series.length === 0 || d.series.some((s) => s.points === 0)).map((d) => d.stat)).toEqual([]);
    // A chart without a value above zero is one whose statistic has none on this data (e.g. no false positive
    // among the staff's few resolutions), never one the page failed to draw.
    for (const { stat } of drawn.filter((d) => !d.hasValue)) {
      const rows = (await get(`${service.url}/v1/stats/${stat}`)).body.rows as Array<Record<string, unknown>>;
      expect(rows.some((r) => Object.values(r).some((v) => typeof v === 'number' && v > 0 && !Number.isInteger(v))), stat).toBe(false);
    }
    // The figures above the charts are filled.
    expect(await page.locator('#justice-figures .figure strong').allTextContents()).not.toContain('—');
    filters = {
      from: `${await page.locator('#justice-filters input[name="from"]').inputValue()}T00:00:00+08:00`,
      to: `${await page.locator('#justice-filters input[name="to"]').inputValue()}T23:59:59+08:00`,
    };
    expect(unexpected(tab.errors)).toEqual([]);
    if (SCREENSHOTS) {
      mkdirSync('docs', { recursive: true });
      await page.screenshot({ path: join('docs', 'justice-view.png'), fullPage: false });
    }
  });

  it('shows each chart as a table, names beside codes, and downloads its CSV with the API\'s rows', async () => {
    const { page } = tab;
    const card = page.locator('.stat-card[data-stat="breaches-by-rule"]');
    await card.locator('.view-toggle').click();
    await expect.poll(() => card.locator('.chart').isHidden()).toBe(true);
    const api = (await get(`${service.url}/v1/stats/breaches-by-rule?${new URLSearchParams(filters)}`)).body;
    expect(api.rows.length).toBeGreaterThan(0);
    expect(await card.locator('tbody tr').count()).toBe(api.rows.length);
    // A rule shows with its title beside its id.
    const firstRule = await card.locator('tbody tr td').first().textContent();
    expect(firstRule).toMatch(new RegExp(`^\\p{Script=Han}.*（${api.rows[0].rule_id}）$`, 'u'));

    const [download] = await Promise.all([page.waitForEvent('download'), card.locator('button.csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^stats-breaches-by-rule-\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv$/);
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    expect(csv[0]).toEqual(api.columns.map((c: { zh: string }) => c.zh));
    expect(csv.slice(1)).toEqual(api.rows.map((r: Record<string, unknown>) => asCsv(api.columns, r)));
  });

  it('filters by region and agency, the agencies named from reference data', async () => {
    const { page } = tab;
    await page.locator('#justice-filters input[name="region"]').fill('3311');
    await page.locator('#justice-filters input[name="region"]').dispatchEvent('change');
    const options = page.locator('#justice-filters select[name="agency"] option');
    await expect.poll(async () => (await options.allTextContents()).slice(1).every((t) => /^\p{Script=Han}.*（3311\d\d-[A-Z]+）$/u.test(t)) && (await options.count()) > 1, { timeout: 10_000 }).toBe(true);
    const agency = await options.nth(1).getAttribute('value');
    await page.locator('#justice-filters select[name="agency"]').selectOption(agency!);
    await expect.poll(() => page.locator('#justice-charts .stat-card[data-state="loading"]').count(), { timeout: 30_000 }).toBe(0);
    const api = (await get(`${service.url}/v1/stats/joint-and-detection-by-agency?${new URLSearchParams({ ...filters, region: '3311', agency: agency! })}`)).body;
    const rows = page.locator('.stat-card[data-stat="joint-and-detection-by-agency"] tbody tr');
    expect(await rows.count()).toBe(api.rows.length);
    expect(await rows.first().locator('td').first().textContent()).toBe(agency);
  });

  it('opens a company of the top 20 with its timeline, agencies named beside their codes', async () => {
    const { page } = tab;
    await page.locator('#justice-filters input[name="region"]').fill('');
    await page.locator('#justice-filters input[name="region"]').dispatchEvent('change');
    await page.locator('#justice-filters select[name="agency"]').selectOption('');
    await expect.poll(() => page.locator('#justice-charts .stat-card[data-state="loading"]').count(), { timeout: 30_000 }).toBe(0);
    const card = page.locator('.stat-card[data-stat="most-visited"]');
    await card.locator('.view-toggle').click();
    const link = card.locator('a.company-link').first();
    const name = await link.textContent();
    await link.click();
    expect(page.url()).toMatch(/#justice\/company\/91\w{16}$/);
    const pane = page.locator('#company-pane');
    await pane.locator('#company-title').waitFor();
    expect(await pane.locator('#company-title').textContent()).toBe(name);
    const events = pane.locator('.timeline li');
    await expect.poll(() => events.count()).toBeGreaterThan(0);
    expect(await pane.locator('.timeline li.type-inspection').first().textContent()).toMatch(/\p{Script=Han}+（\d{6}-[A-Z]+）/u);
    expect(unexpected(tab.errors)).toEqual([]);
  });
});

describe('月度通报', () => {
  it('shows one region\'s month, agencies ranked, printable, with its CSV equal to the API\'s', async () => {
    // A page of its own: Chromium asks before a page's second download, which a headless browser cannot answer.
    const { token } = await createToken(service.url, 'justice', { jurisdiction: '33' });
    const report = await openPage(browser, `${service.url}/#token=${encodeURIComponent(token)}`);
    tabs.push(report);
    const { page } = report;
    await page.locator('#tab-report').click();
    // The demo month ends today: the month of 15 days ago has data whatever today is.
    const month = new Date(Date.now() - 15 * DAY + 8 * 3600_000).toISOString().slice(0, 7);
    await page.locator('#report-form input[name="month"]').fill(month);
    await page.locator('#report-form input[name="region"]').fill('3311');
    await page.locator('#report-form input[name="region"]').dispatchEvent('change');
    const table = page.locator('#report-body .stat-table');
    await table.waitFor({ timeout: 20_000 });
    const [year, m] = month.split('-').map(Number);
    const last = new Date(Date.UTC(year!, m!, 0)).getUTCDate();
    const range = { from: `${month}-01T00:00:00+08:00`, to: `${month}-${last}T23:59:59+08:00`, region: '3311' };
    const api = (await get(`${service.url}/v1/stats/monthly-report?${new URLSearchParams(range)}`)).body;
    expect(api.rows.length).toBeGreaterThan(1);
    expect(api.rows.map((r: { rank: number }) => r.rank)).toEqual(api.rows.map((_: unknown, i: number) => i + 1));
    expect(await table.locator('tbody tr').count()).toBe(api.rows.length);
    expect(await page.locator('#report-body h2').textContent()).toBe(`3311 丽水市 ${year}年${m}月 涉企行政检查月度通报`);
    for (const figure of ['joint_rate', 'detection_rate', 'visits_per_company']) {
      expect(await page.locator(`#report-body .report-figures [data-column="${figure}"] dd`).textContent()).not.toBe('—');
    }
    await page.locator('#report-csv:not([disabled])').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    expect(csv.slice(1)).toEqual(api.rows.map((r: Record<string, unknown>) => asCsv(api.columns, r)));
    // Printed, only the report shows.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.topbar').isVisible()).toBe(false);
    expect(await table.isVisible()).toBe(true);
    if (SCREENSHOTS) await page.screenshot({ path: join('docs', 'monthly-report.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    expect(unexpected(report.errors)).toEqual([]);
  });

  it('is not offered to 12345 staff, who may not read statistics', async () => {
    const { token } = await createToken(service.url, 'hotline');
    const hotline = await openPage(browser, `${service.url}/#token=${encodeURIComponent(token)}`);
    tabs.push(hotline);
    await expect.poll(() => hotline.page.locator('#tab-justice').isHidden(), { timeout: 10_000 }).toBe(true);
    expect(await hotline.page.locator('#tab-report').isHidden()).toBe(true);
  });
});
