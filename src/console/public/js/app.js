/**
 * The console's entry: sign-in, who is signed in (GET /v1/me), the views that
 * person's role works with (#feed, #hotline, #rules, #plans, #justice, #report,
 * #coordination; the others' tabs are not shown), the role's landing view, and
 * the live feed's connection state (shown in the feed view only).
 */
import { currentToken, signIn, signOut, takeTokenFromUrl } from './auth.js';
import { refreshTimes } from './format.js';
import { startFeed } from './feed.js';
import { startHotline } from './hotline.js';
import { divisionsLoaded, regionName } from './names.js';
import { describeWho, describeWhoInFull, whoAmI } from './role.js';
import { startPlans } from './plans.js';
import { startJustice } from './justice.js';
import { startReport } from './report.js';
import { startRules } from './rules.js';
import { startCoordination } from './coordination.js';

const STATE_TEXT = {
  connecting: '连接中…',
  connected: '已连接',
  reconnecting: '重新连接中…',
  disconnected: '已断开',
  idle: '未连接',
  'signed-out': '未登录',
};

const connection = document.getElementById('connection');
let retryTicker = null;

function showConnection(state, { retryAt } = {}) {
  connection.dataset.state = state;
  connection.querySelector('.text').textContent = STATE_TEXT[state] ?? state;
  const retry = connection.querySelector('.retry');
  clearInterval(retryTicker);
  const paint = () => {
    const s = Math.max(0, Math.ceil(((retryAt ?? 0) - Date.now()) / 1000));
    retry.textContent = (state === 'reconnecting' || state === 'disconnected') && retryAt ? (s > 0 ? `${s} 秒后重试` : '正在重试') : '';
  };
  paint();
  if (state === 'reconnecting' || state === 'disconnected') retryTicker = setInterval(paint, 1000);
}

document.getElementById('sign-out').addEventListener('click', signOut);

// No data is asked for before there is a token: from the session, from `#token=` once, or typed into the dialog.
takeTokenFromUrl();
document.addEventListener('qingjian:signed-out', () => showConnection('signed-out'));
addEventListener('hashchange', () => {
  // A `#token=` link opened in this tab while it runs: take the token and start over with it.
  if (!/(^#|&)token=/.test(location.hash)) return;
  takeTokenFromUrl();
  location.reload();
});
if (!currentToken()) {
  showConnection('signed-out');
  await signIn();
}
const who = await whoAmI();
await divisionsLoaded;
const whoEl = document.getElementById('who');
whoEl.textContent = describeWho(who, regionName);
whoEl.title = describeWhoInFull(who, regionName);
whoEl.hidden = !whoEl.textContent;
document.body.dataset.role = who.role;
const offered = new Set(who.scope.views);

const tabCount = document.getElementById('tab-feed-count');
if (offered.has('feed')) {
  startFeed({
    root: document.getElementById('feed-view'),
    scope: who.scope,
    onConnection: showConnection,
    onCount: (n, more) => {
      tabCount.hidden = n === 0;
      tabCount.textContent = `${n}${more ? '+' : ''}`;
      tabCount.setAttribute('aria-label', `${n} 条待签收`);
      document.title = n > 0 ? `(${n}${more ? '+' : ''}) 清检 · 监测台` : '清检 · 监测台';
    },
  });
}
const hotline = offered.has('hotline') && startHotline({ root: document.getElementById('hotline-view') });
const rules = offered.has('rules') && startRules({ root: document.getElementById('rules-view') });
const plans = offered.has('plans') && startPlans({ root: document.getElementById('plans-view') });
const justice = offered.has('justice') && startJustice({ root: document.getElementById('justice-view') });
const report = offered.has('report') && startReport({ root: document.getElementById('report-view') });
const coordination = offered.has('coordination') && startCoordination({ root: document.getElementById('coordination-view') });

const views = {
  feed: { section: document.getElementById('feed-view'), tab: document.getElementById('tab-feed') },
  hotline: { section: document.getElementById('hotline-view'), tab: document.getElementById('tab-hotline') },
  rules: { section: document.getElementById('rules-view'), tab: document.getElementById('tab-rules') },
  plans: { section: document.getElementById('plans-view'), tab: document.getElementById('tab-plans') },
  justice: { section: document.getElementById('justice-view'), tab: document.getElementById('tab-justice') },
  report: { section: document.getElementById('report-view'), tab: document.getElementById('tab-report') },
  coordination: { section: document.getElementById('coordination-view'), tab: document.getElementById('tab-coordination') },
};

for (const [key, view] of Object.entries(views)) view.tab.hidden = !offered.has(key);
const noView = document.getElementById('no-view');

function route() {
  // #justice/company/<id> is the justice view with a company's timeline open. A view the role does not work with
  // (typed or bookmarked) shows the role's own landing view instead.
  const asked = location.hash.slice(1).split('/')[0];
  const name = offered.has(asked) ? asked : who.scope.landing;
  for (const [key, view] of Object.entries(views)) {
    view.section.hidden = key !== name;
    if (key === name) view.tab.setAttribute('aria-current', 'page');
    else view.tab.removeAttribute('aria-current');
  }
  // The connection state is the live feed's: it means nothing on the ticket queue or the rules.
  connection.hidden = name !== 'feed';
  noView.hidden = name !== null;
  if (hotline) {
    if (name === 'hotline') hotline.show();
    else hotline.hide();
  }
  if (name === 'rules' && rules) rules.show();
  if (name === 'plans' && plans) plans.show();
  if (name === 'justice' && justice) justice.show();
  if (name === 'report' && report) report.show();
  if (name === 'coordination' && coordination) coordination.show();
}
addEventListener('hashchange', route);
route();

// Relative times ("3分钟前") stay true over a whole shift.
setInterval(() => refreshTimes(), 30_000);
