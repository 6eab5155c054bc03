import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../src/redis/local-server.js';
import { startClickHouseHttp } from './support/clickhouse-http.js';
import { launchBrowser, openPage, type ConsolePage } from './support/browser.js';
import { checkin, complaint, creditCode, MID_MONTH_WEEK_AGO, shanghaiAt } from './support/fixtures.js';
import { eventually, get, personToken, post, put, startTestService, TEST_TOKEN, type TestService } from './support/service.js';

/**
 * The console in a real headless Chromium against the real service: one
 * Redis and one ClickHouse (the chdb HTTP shim) shared by a worker and two API
 * processes' worth of services, as in production. The page talks to API A;
 * A is stopped and started again on the same port while B keeps taking events.
 */
const dir = mkdtempSync(join(tmpdir(), 'qingjian-console-'));
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DOCS = join(process.cwd(), 'docs');
const ACTOR = '王敏';
const HOUR = 3600_000;

let clickhouse: { url: string; close(): Promise<void> };
let redis: LocalRedis;
let worker: TestService;
let apiA: TestService;
let apiB: TestService;
let portA: number;
let browser: Browser;
let feed: ConsolePage;

const shared = () => ({ REDIS_URL: redis.url, CLICKHOUSE_URL: clickhouse.url, RULES_WATCH: 'false', STORE_BATCH_WAIT_MS: '20' });
const startApiA = () => startTestService({ ...shared(), PORT: String(portA ?? 0) }, { api: true, worker: false }, join(dir, 'api-a'));

// A week ago at 10:00 Shanghai, on a day inside no quiet period (the 8th to 18th of a month).
const shanghai = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 19) + '+08:00';
const WEEK_AGO = Date.parse(shanghaiAt(MID_MONTH_WEEK_AGO));

// Where the rules under test hold (rules/regions.yaml): no-plan and 12345 tickets for complaints in 烟台 (芝罘区),
// frequent visits in 德州 (德城区), whose agencies come in turn.
const YANTAI = '370602';
const DEZHOU = '371402';
const YANTAI_SCJG = '370600-SCJG';
const DEZHOU_AGENCIES = [
  { agency_id: '371400-SCJG', name: '德州市市场监督管理局', kind: 'market_regulation' },
  { agency_id: '371400-YJGL', name: '德州市应急管理局', kind: 'emergency' },
  { agency_id: '371400-STHJ', name: '德州市生态环境局', kind: 'ecology' },
  { agency_id: '371400-XFJY', name: '德州市消防救援支队', kind: 'fire' },
];

let serial = 700;
async function newCompany(url: string, name: string, region = YANTAI): Promise<string> {
  const id = creditCode(region, serial++);
  expect((await put(`${url}/v1/enterprises`, { enterprise_id: id, name, region, credit_grade: 'C' })).status).toBe(200);
  return id;
}

/** An entry scan in 烟台 by its market regulator, with no plan on file: a no-plan alert. */
const yantaiEntry = (enterprise_id: string, at: number) => checkin({
  enterprise_id, occurred_at: shanghai(at), region: YANTAI, source: 'yantai-platform', agency_id: YANTAI_SCJG, officer_ids: [`${YANTAI_SCJG}-001`],
});

/** A complaint about a 烟台 company: 烟台 sends complaints to its 12345 line (and to the feed). */
const yantaiComplaint = (overrides: Record<string, unknown>) => complaint({ region: YANTAI, agency_id: YANTAI_SCJG, ...overrides });

async function alertOf(url: string, enterprise: string, rule = 'no-plan'): Promise<{ id: string } & Record<string, any>> {
  return eventually(async () => {
    const res = await get(`${url}/v1/alerts?enterprise=${enterprise}&rule=${rule}`);
    return res.body?.items?.[0];
  }, 30_000, `${rule} alert for ${enterprise}`);
}

/** The console signed in the way an operator opens a link: the token in the fragment, taken once. */
const signedIn = (url: string, token = TEST_TOKEN) => `${url}/#token=${encodeURIComponent(token)}`;
const storedToken = (page: ConsolePage['page']) => page.evaluate(() => sessionStorage.getItem('qingjian.token'));

const rowsOf = (id: string) => feed.page.locator(`#alert-list > li[data-id="${id}"]`);
/** Errors a browser logs for a refused connection while the server is down are expected there and only there. */
const unexpected = (errors: string[]) => errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|Failed to load resource/.test(e));

/** Into test-artifacts/ always; into docs/ only when asked (QINGJIAN_SCREENSHOTS=1), so test runs leave the tree clean. */
async function screenshot(name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await feed.page.screenshot({ path: file });
  if (process.env.QINGJIAN_SCREENSHOTS !== '1') return;
  mkdirSync(DOCS, { recursive: true });
  copyFileSync(file, join(DOCS, `${name}.png`));
}

beforeAll(async () => {
  clickhouse = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  redis = await startLocalRedis({ dir: join(dir, 'redis') });
  worker = await startTestService(shared(), { api: false, worker: true }, join(dir, 'worker'));
  apiA = await startApiA();
  portA = Number(new URL(apiA.url).port);
  apiB = await startTestService(shared(), { api: true, worker: false }, join(dir, 'api-b'));
  const agencies = [...DEZHOU_AGENCIES.map((a) => ({ ...a, region: '371400' })),
    { agency_id: YANTAI_SCJG, name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' }];
  expect((await put(`${apiB.url}/v1/agencies`, agencies)).status).toBe(200);
  browser = await launchBrowser();
});

afterAll(async () => {
  await feed?.context.close().catch(() => {});
  await browser?.close().catch(() => {});
  await apiA?.stop();
  await apiB?.stop();
  await worker?.stop();
  await redis?.stop();
  await clickhouse?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the console', () => {
  let firstAlert: string;

  it('serves the page with its security headers and assets', async () => {
    const res = await fetch(`${apiA.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('清检');
    const js = await fetch(`${apiA.url}/console/js/feed.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('loads without errors, connects, and shows a new alert without a reload', async () => {
    // The person on duty signs in with their own token: the header shows who they are, and every action is theirs.
    const own = await personToken(apiA.url, ACTOR, 'admin', { unit: '德州市纪委监委' });
    feed = await openPage(browser, signedIn(apiA.url, own));
    const { page } = feed;
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    // The token went from the address into this tab's storage, and out of the address bar.
    expect(page.url()).toBe(`${apiA.url}/`);
    expect(await storedToken(page)).toBe(own);
    await page.locator('#who', { hasText: `${ACTOR} · 德州市纪委监委` }).waitFor();
    expect(await page.locator('dialog#signin').count()).toBe(0);
    await expect(page.locator('#connection .text').textContent()).resolves.toBe('已连接');
    await page.locator('#alert-list[aria-busy]').waitFor({ state: 'detached' });

    const company = await newCompany(apiA.url, '烟台鲁信食品有限公司');
    expect((await post(`${apiA.url}/v1/events`, [yantaiEntry(company, WEEK_AGO)])).status).toBe(202);
    const alert = await alertOf(apiA.url, company);
    firstAlert = alert.id;

    const row = rowsOf(alert.id);
    await row.waitFor({ timeout: 15_000 });
    await expect(row.locator('.row-title').textContent()).resolves.toBe('无计划入企检查');
    await expect(row.locator('.sev-badge').textContent()).resolves.toBe('二级');
    await expect(row.locator('.status-chip').textContent()).resolves.toBe('待签收');
    expect(await row.locator('.row-message').textContent()).toContain('烟台鲁信食品有限公司');
    expect(Number(await page.locator('#unacked-count').getAttribute('data-count'))).toBeGreaterThanOrEqual(1);
    expect(feed.errors).toEqual([]);
  });

  it('acknowledges an alert with a note from its detail panel, which explains the alert', async () => {
    const { page } = feed;
    // A 德州 company visited four times in twelve days as well, by four agencies in turn (each scanning in and out),
    // so the list and the screenshot show more than one kind.
    const busy = await newCompany(apiA.url, '德州华宇机械制造有限公司', DEZHOU);
    const visits = [12, 9, 6, 3].flatMap((daysAgo, i) => {
      const { agency_id } = DEZHOU_AGENCIES[i]!;
      const enter = WEEK_AGO - daysAgo * 24 * HOUR;
      const scan = { enterprise_id: busy, agency_id, officer_ids: [`${agency_id}-001`] };
      return [checkin({ ...scan, occurred_at: shanghai(enter) }), checkin({ ...scan, occurred_at: shanghai(enter + HOUR), action: 'exit' })];
    });
    expect((await post(`${apiA.url}/v1/events`, visits)).status).toBe(202);
    const frequent = await alertOf(apiA.url, busy, 'frequent-visits');
    await rowsOf(frequent.id).waitFor({ timeout: 15_000 });

    await rowsOf(firstAlert).locator('.row-main').click();
    const detail = page.locator('#alert-detail');
    await detail.locator('.detail-section').first().waitFor();
    await expect(detail.locator('h2').first().textContent()).resolves.toBe('无计划入企检查');
    // Evidence: the check-in that triggered it, with its fields in words.
    const evidence = detail.locator('.evidence-item');
    await expect(evidence.count()).resolves.toBe(1);
    const evidenceText = await evidence.first().textContent();
    expect(evidenceText).toContain('触发事件');
    expect(evidenceText).toContain('扫码入企');
    expect(evidenceText).toContain('亮码扫码');
    expect(evidenceText).toContain('370600-SCJG-001');
    // Figures with readable labels, the rule's source and the params in force.
    const figures = await detail.locator('table.figures').first().textContent();
    expect(figures).toContain('入企时间');
    const rule = await detail.locator('.rule').textContent();
    expect(rule).toContain('yantai-joint-inspection-platform.txt');
    expect(rule).toContain('部门需至少提前7天通过‘涉企联合检查平台’提报检查计划');
    expect(rule).toContain('no-plan，第 2 版');
    expect(rule).toContain('提前报备（天）');
    expect(await detail.locator('.history').textContent()).toContain('产生预警');

    await detail.locator('textarea[name="note"]').fill('已电话联系市场监管局核实，计划系漏报');
    await detail.locator('button[data-action="ack"]').click();
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已签收。' }).waitFor({ timeout: 15_000 });
    const after = (await get(`${apiA.url}/v1/alerts/${firstAlert}`)).body;
    expect(after).toMatchObject({ status: 'acknowledged', acknowledged_by: ACTOR });
    expect(after.history.at(-1)).toMatchObject({ action: 'acknowledged', actor: ACTOR, note: '已电话联系市场监管局核实，计划系漏报' });
    await page.locator(`#alert-list > li[data-id="${firstAlert}"] .status-chip`, { hasText: '已签收' }).waitFor();
    await detail.locator('.history', { hasText: ACTOR }).waitFor();
    // Acknowledging it twice is refused, and the page says so readably.
    const conflict = await post(`${apiA.url}/v1/alerts/${firstAlert}/ack`, { actor: '另一人' });
    expect(conflict.status).toBe(409);

    // A change made elsewhere (here: over HTTP by a colleague) updates the row in place, live.
    const rowsBefore = await page.locator('#alert-list > li').count();
    const unackedBefore = Number(await page.locator('#unacked-count').getAttribute('data-count'));
    expect((await post(`${apiB.url}/v1/alerts/${frequent.id}/ack`, { actor: '李强', note: '已转交监督科' })).status).toBe(200);
    await page.locator(`#alert-list > li[data-id="${frequent.id}"] .status-chip`, { hasText: '已签收' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#alert-list > li').count()).toBe(rowsBefore);
    expect(Number(await page.locator('#unacked-count').getAttribute('data-count'))).toBe(unackedBefore - 1);

    // Silence the alert's rule for this company and agency from the page, see it listed, and end it early.
    await rowsOf(firstAlert).locator('.row-main').click();
    await detail.locator('.detail-section').first().waitFor();
    await detail.locator('button[data-action="silence"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('button[type="submit"]').click();
    await dialog.locator('.action-message', { hasText: '请填写暂停提醒的原因' }).waitFor();
    await dialog.locator('textarea[name="reason"]').fill('该企业本周开展联合专项检查，已向县综合执法办报备');
    await dialog.locator('select[name="duration"]').selectOption('240');
    await dialog.locator('button[type="submit"]').click();
    await dialog.waitFor({ state: 'detached' });
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已暂停提醒' }).waitFor();
    const silences = (await get(`${apiA.url}/v1/silences`)).body.items as Array<Record<string, any>>;
    const silence = silences.find((x) => x.created_by === ACTOR)!;
    expect(silence).toMatchObject({
      reason: '该企业本周开展联合专项检查，已向县综合执法办报备', state: 'active',
      matchers: expect.objectContaining({ rule: 'no-plan', enterprise: (await get(`${apiA.url}/v1/alerts/${firstAlert}`)).body.enterprise_id, agency: YANTAI_SCJG }),
    });
    const minutes = (Date.parse(silence.ends_at) - Date.parse(silence.created_at)) / 60_000;
    expect(minutes).toBeGreaterThan(239);
    expect(minutes).toBeLessThan(241);
    await page.locator('#open-silences .n', { hasText: '1' }).waitFor();
    await page.click('#open-silences');
    const list = page.locator('dialog[open]');
    await list.locator('.silence', { hasText: '该企业本周开展联合专项检查' }).waitFor();
    await list.locator('.silence button', { hasText: '恢复提醒' }).click();
    await list.locator('.muted', { hasText: '当前没有生效的暂停提醒' }).waitFor();
    const ended = (await get(`${apiA.url}/v1/silences?state=all`)).body.items.find((x: { id: string }) => x.id === silence.id);
    expect(ended).toMatchObject({ state: 'expired', expired_by: ACTOR });
    await list.locator('button', { hasText: '关闭' }).click();

    await page.waitForTimeout(2_600); // let the arrival highlights settle before the picture
    await page.setViewportSize({ width: 1600, height: 1000 });
    await rowsOf(firstAlert).scrollIntoViewIfNeeded();
    await screenshot('console-feed');
    await detail.locator('.evidence').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'console-feed-evidence.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(feed.errors).toEqual([]);

    // The same view in dark mode, for review (test-artifacts only).
    const dark = await openPage(browser, signedIn(apiA.url), { colorScheme: 'dark' });
    await dark.page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await dark.page.locator(`#alert-list > li[data-id="${frequent.id}"] .row-main`).click();
    await dark.page.locator('#alert-detail .detail-section').first().waitFor();
    await dark.page.screenshot({ path: join(ARTIFACTS, 'console-feed-dark.png') });
    expect(dark.errors).toEqual([]);
    await dark.context.close();
  });

  it('reconnects by itself after the server restarts and shows what it missed, once', async () => {
    const { page } = feed;
    const before = await page.locator('#alert-list > li').count();
    await apiA.stop();
    await page.locator('#connection[data-state="reconnecting"], #connection[data-state="disconnected"]').waitFor({ timeout: 10_000 });
    expect(['重新连接中…', '已断开']).toContain(await page.locator('#connection .text').textContent());

    // While A is down, B takes an event that raises an alert.
    const company = await newCompany(apiB.url, '烟台恒信建材有限公司');
    expect((await post(`${apiB.url}/v1/events`, [yantaiEntry(company, WEEK_AGO)])).status).toBe(202);
    const missed = await alertOf(apiB.url, company);
    expect(await rowsOf(missed.id).count()).toBe(0);

    apiA = await startApiA();
    expect(Number(new URL(apiA.url).port)).toBe(portA);
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 30_000 });
    await expect(page.locator('#connection .text').textContent()).resolves.toBe('已连接');
    await rowsOf(missed.id).waitFor({ timeout: 15_000 });

    // One row per alert: nothing shown twice, nothing lost.
    const ids = await page.locator('#alert-list > li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(before + 1);
    expect(ids[0]).toBe(missed.id);
    expect(await rowsOf(firstAlert).count()).toBe(1);

    // A reload resumes from the stored position: the same rows, once each.
    await page.reload();
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await rowsOf(missed.id).waitFor();
    await page.waitForTimeout(500);
    const again = await page.locator('#alert-list > li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(new Set(again).size).toBe(again.length);
    expect(new Set(again)).toEqual(new Set(ids));

    // A stored position the server never issued (e.g. Redis was replaced) is dropped: the list is read again, once each.
    await page.evaluate(() => sessionStorage.setItem('qj.feed.seq', '99999999999999-0'));
    await page.reload();
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await rowsOf(missed.id).waitFor();
    await page.waitForFunction(() => sessionStorage.getItem('qj.feed.seq') !== '99999999999999-0');
    expect(new Set(await page.locator('#alert-list > li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id)))).toEqual(new Set(ids));

    // Filters go to the server: a severity nothing has empties the list; clearing brings the rows back, once each.
    await page.selectOption('#feed-filters select[name="severity"]', 'medium');
    await page.locator('#feed-empty').waitFor({ state: 'visible' });
    expect(await page.locator('#alert-list > li').count()).toBe(0);
    await page.selectOption('#feed-filters select[name="severity"]', '');
    await rowsOf(missed.id).waitFor();
    const cleared = await page.locator('#alert-list > li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(new Set(cleared)).toEqual(new Set(ids));
    expect(cleared.length).toBe(ids.length);
    await page.selectOption('#feed-filters select[name="rule"]', 'frequent-visits');
    await page.locator('#alert-list > li[data-rule="no-plan"]').first().waitFor({ state: 'detached' });
    expect(await page.locator('#alert-list > li[data-rule="frequent-visits"]').count()).toBe(1);
    await page.selectOption('#feed-filters select[name="rule"]', '');
    await rowsOf(missed.id).waitFor();
    expect(unexpected(feed.errors)).toEqual([]);
  });

  it('lists a complaint as a hotline ticket and claims it', async () => {
    const { page } = feed;
    const company = await newCompany(apiA.url, '烟台万和商贸有限公司');
    const filed = yantaiComplaint({
      enterprise_id: company, occurred_at: shanghai(Date.now() - 2 * HOUR),
      text: '两名检查人员上午进入门店检查，未出示执法证件，也未扫码亮证。',
    });
    expect((await post(`${apiA.url}/v1/events`, [filed])).status).toBe(202);
    // Two more, older, so the queue has an order to show.
    const others = [
      yantaiComplaint({ enterprise_id: await newCompany(apiA.url, '烟台金源纺织有限公司'), category: 'frequent', occurred_at: shanghai(Date.now() - 26 * HOUR), text: '本月已有三批检查人员入企检查，内容重复，影响正常生产。' }),
      yantaiComplaint({ enterprise_id: await newCompany(apiA.url, '烟台润丰农业科技有限公司'), category: 'quiet_period', occurred_at: shanghai(Date.now() - 5 * HOUR), text: '月底安静期内有执法人员入企检查。' }),
    ];
    expect((await post(`${apiA.url}/v1/events`, others)).status).toBe(202);
    const ticket = await eventually(async () => {
      const res = await get(`${apiA.url}/v1/hotline/tickets?limit=1000`);
      const items = res.body?.items ?? [];
      return items.length >= 3 ? items.find((t: { source_id: string }) => t.source_id === filed.id) : undefined;
    }, 30_000, 'the complaint tickets');

    await page.click('#tab-hotline');
    const row = page.locator(`#ticket-rows > tr[data-id="${ticket.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('企业投诉：检查人员未亮码入企');
    await expect(row.locator('.state-chip').textContent()).resolves.toBe('待认领');

    await row.locator('button.link').click();
    const detail = page.locator('#ticket-detail');
    await detail.locator('button[data-action="claim"]').click();
    await detail.locator('.action-message[data-kind="ok"]', { hasText: '已认领' }).waitFor({ timeout: 15_000 });
    const claimed = (await get(`${apiA.url}/v1/hotline/tickets/${ticket.id}`)).body;
    expect(claimed).toMatchObject({ state: 'claimed', claimed_by: ACTOR });
    await page.locator(`#ticket-rows > tr[data-id="${ticket.id}"] .state-chip`, { hasText: '办理中' }).waitFor();
    await detail.locator('button[data-action="release"]').waitFor();
    await page.setViewportSize({ width: 1600, height: 1000 });
    await screenshot('console-hotline');
    expect(unexpected(feed.errors)).toEqual([]);
  });
});

describe('signing in to the console', () => {
  /** API calls the page made (fetch and XHR show up as resource timings; the page's own files are under /console/). */
  const apiCalls = (page: ConsolePage['page']) => page.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname).filter((path) => path.startsWith('/v1/')));

  async function newToken(role: string): Promise<{ token: string; id: string }> {
    const res = await post(`${apiA.url}/v1/tokens`, { name: `控制台测试-${role}`, role });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('says why after 退出 even when the page being left asks for a token before it goes', async () => {
    const tab = await openPage(browser, signedIn(apiA.url));
    const { page } = tab;
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    // As a feed reconnecting or a refresh would, right after 退出 and before the reload takes the page away.
    // A string, not a function: the test runner would rewrite a function's import(). Not awaited in the page: the
    // reload takes the page (and what it would answer) away.
    const reloaded = page.waitForEvent('load');
    await page.evaluate(`void import('/console/js/auth.js').then((auth) => { auth.signOut(); void auth.token(); })`);
    await reloaded;
    const dialog = page.locator('dialog#signin[open]');
    await dialog.locator('.signin-reason', { hasText: '已退出登录。' }).waitFor({ timeout: 10_000 });
    expect(await storedToken(page)).toBeNull();
    expect(unexpected(tab.errors)).toEqual([]);
    await tab.context.close();
  });

  it('asks for a token and shows no data without one, refuses a wrong one, lets the right one in, and signs out', async () => {
    const tab = await openPage(browser, `${apiA.url}/`);
    const { page } = tab;
    const dialog = page.locator('dialog#signin[open]');
    await dialog.waitFor({ timeout: 10_000 });
    await expect(dialog.locator('h2').textContent()).resolves.toBe('请输入访问令牌');
    const input = dialog.locator('input[name="token"]');
    await expect(input.getAttribute('type')).resolves.toBe('password');
    expect(await dialog.textContent()).toContain('qingjian tokens create');
    await expect(page.locator('#connection .text').textContent()).resolves.toBe('未登录');
    // Nothing asked of the API, nothing shown, no feed opened.
    await page.waitForTimeout(1_000);
    expect(await apiCalls(page)).toEqual([]);
    expect(await page.locator('#alert-list > li').count()).toBe(0);
    expect(await page.locator('main').evaluate((m) => getComputedStyle(m).visibility)).toBe('hidden');
    await expect(page.locator('#connection').getAttribute('data-state')).resolves.toBe('signed-out');
    // Esc does not get past it.
    await page.keyboard.press('Escape');
    await dialog.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'console-signin.png') });

    // Something that is not a token at all: said so, before asking the server.
    await input.fill('abc');
    await dialog.locator('button[type="submit"]', { hasText: '登录' }).click();
    await dialog.locator('.action-message[data-kind="error"]', { hasText: '令牌格式不正确' }).waitFor();
    // A well-formed token the service does not know: refused, and the dialog stays.
    await input.fill(`qjt_${'x'.repeat(43)}`);
    await dialog.locator('button[type="submit"]').click();
    await dialog.locator('.action-message[data-kind="error"]', { hasText: '令牌无效' }).waitFor({ timeout: 10_000 });
    expect(await dialog.isVisible()).toBe(true);
    expect(await storedToken(page)).toBeNull();
    expect(await page.locator('#alert-list > li').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'console-signin-refused.png') });

    // The right one: the feed, live, with the list.
    await input.fill(TEST_TOKEN);
    await input.press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
    expect(await storedToken(page)).toBe(TEST_TOKEN);
    expect(await page.locator('main').evaluate((m) => getComputedStyle(m).visibility)).toBe('visible');

    // 退出: the token is gone, the dialog is back, and nothing of the feed stays.
    await page.locator('#sign-out', { hasText: '退出' }).click();
    await dialog.waitFor({ timeout: 10_000 });
    expect(await dialog.locator('.signin-reason').textContent()).toBe('已退出登录。');
    expect(await storedToken(page)).toBeNull();
    expect(await page.locator('#alert-list > li').count()).toBe(0);
    await expect(page.locator('#connection .text').textContent()).resolves.toBe('未登录');
    expect(await apiCalls(page)).toEqual([]);
    expect(unexpected(tab.errors)).toEqual([]);
    await tab.context.close();
  });

  it('goes to the sign-in dialog, not into endless reconnects, when the API refuses the stored token', async () => {
    const revoked = await newToken('discipline');
    expect((await post(`${apiA.url}/v1/tokens/${revoked.id}/revoke`, {})).status).toBe(200);
    const tab = await openPage(browser, signedIn(apiA.url, revoked.token));
    const { page } = tab;
    const dialog = page.locator('dialog#signin[open]');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('.signin-reason', { hasText: '已被吊销' }).waitFor();
    expect(page.url()).toBe(`${apiA.url}/`);
    // The feed was refused too: it waits for the dialog instead of retrying.
    await page.locator('#connection[data-state="signed-out"]').waitFor({ timeout: 10_000 });
    let attempts = 0;
    page.on('websocket', () => attempts++);
    await page.waitForTimeout(3_000);
    expect(attempts).toBe(0);

    await dialog.locator('input[name="token"]').fill(TEST_TOKEN);
    await dialog.locator('button[type="submit"]').click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    await page.locator('#connection[data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('#alert-list > li').first().waitFor({ timeout: 15_000 });
    expect(unexpected(tab.errors)).toEqual([]);
    await tab.context.close();
  });
});
