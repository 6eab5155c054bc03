/** The console's entry: sign-in, tabs (#feed, #hotline, #rules, #plans, #justice, #report, #coordination), who is signed in, the connection state, the views. */
import { showMe } from './actor.js';
import { api, ApiError, listRules } from './api.js';
import { currentToken, signIn, signOut, takeTokenFromUrl } from './auth.js';
import { refreshTimes } from './format.js';
import { startFeed } from './feed.js';
import { startHotline } from './hotline.js';
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
// Not awaited: the views need not wait for the name in the header (a refused token opens the sign-in dialog).
showMe(document.getElementById('me')).catch(() => {});

const tabCount = document.getElementById('tab-feed-count');
startFeed({
  root: document.getElementById('feed-view'),
  onConnection: showConnection,
  onCount: (n, more) => {
    tabCount.hidden = n === 0;
    tabCount.textContent = `${n}${more ? '+' : ''}`;
    tabCount.setAttribute('aria-label', `${n} 条待确认`);
    document.title = n > 0 ? `(${n}${more ? '+' : ''}) 清检 · 监测台` : '清检 · 监测台';
  },
});
const hotline = startHotline({ root: document.getElementById('hotline-view') });
const rules = startRules({ root: document.getElementById('rules-view') });
const plans = startPlans({ root: document.getElementById('plans-view') });
const justice = startJustice({ root: document.getElementById('justice-view') });
const report = startReport({ root: document.getElementById('report-view') });
const coordination = startCoordination({ root: document.getElementById('coordination-view') });

const views = {
  feed: { section: document.getElementById('feed-view'), tab: document.getElementById('tab-feed') },
  hotline: { section: document.getElementById('hotline-view'), tab: document.getElementById('tab-hotline') },
  rules: { section: document.getElementById('rules-view'), tab: document.getElementById('tab-rules') },
  plans: { section: document.getElementById('plans-view'), tab: document.getElementById('tab-plans') },
  justice: { section: document.getElementById('justice-view'), tab: document.getElementById('tab-justice') },
  report: { section: document.getElementById('report-view'), tab: document.getElementById('tab-report') },
  coordination: { section: document.getElementById('coordination-view'), tab: document.getElementById('tab-coordination') },
};

function route() {
  // #justice/company/<id> is the justice view with a company's timeline open.
  const asked = location.hash.slice(1).split('/')[0];
  const name = Object.hasOwn(views, asked) && !views[asked].tab.hidden ? asked : 'feed';
  for (const [key, view] of Object.entries(views)) {
    view.section.hidden = key !== name;
    if (key === name) view.tab.setAttribute('aria-current', 'page');
    else view.tab.removeAttribute('aria-current');
  }
  if (name === 'hotline') hotline.show();
  else hotline.hide();
  if (name === 'rules') rules.show();
  if (name === 'plans') plans.show();
  if (name === 'justice') justice.show();
  if (name === 'report') report.show();
  if (name === 'coordination') coordination.show();
}
addEventListener('hashchange', route);
route();

// A role that may not read the rules (12345 staff) has no 规则适用 view: the tab goes, and #rules shows the feed.
// The same staff may not read alerts, so the weekly review of plans (检查计划) goes with it.
listRules().catch((err) => {
  if (!(err instanceof ApiError) || err.status !== 403) return;
  views.rules.tab.hidden = true;
  views.plans.tab.hidden = true;
  route();
});

// Roles that may not read the statistics (12345 staff) have no 执法监督 or 月度通报.
api.get('/v1/stats').catch((err) => {
  if (!(err instanceof ApiError) || err.status !== 403) return;
  views.justice.tab.hidden = true;
  views.report.tab.hidden = true;
  route();
});

// Only the roles that see plans (统筹, 纪委, 司法局) have the 计划统筹 view.
api.get('/v1/plans/upcoming?limit=1').catch((err) => {
  if (!(err instanceof ApiError) || err.status !== 403) return;
  views.coordination.tab.hidden = true;
  route();
});

// Relative times ("3分钟前") stay true over a whole shift.
setInterval(() => refreshTimes(), 30_000);
