/**
 * 实时预警: the live alert feed for the discipline commissions.
 *
 * The list is filled over HTTP (GET /v1/alerts) and kept current by the live
 * feed (WebSocket /v1/alerts/stream). No gap, no duplicate: the page
 * subscribes from the last seq it saw (kept in sessionStorage, so a reload or
 * a reconnect resumes where it stopped) or, the first time, from the hello's
 * latest_seq taken before the HTTP list is read; messages arriving while the
 * list loads are held and applied after it; every alert message carries the
 * whole alert with its revision, and an older revision never overwrites a
 * newer one, so a replay of what the list already shows changes nothing.
 */
import { api, ApiError, getRule, listRules, query } from './api.js';
import { announce, facts, fill, h } from './dom.js';
import { absolute, number, timeEl } from './format.js';
import { bindExport } from './exports.js';
import { fillRegionOptions, nameEl, namesEl } from './names.js';
import { printAlert } from './print.js';
import { enterpriseId, enterpriseSearch, officerId, officerSearch } from './search.js';
import * as L from './labels.js';
import { FeedSocket } from './socket.js';

export const MAX_ROWS = 500;
const PAGE = 100;
const SEQ_KEY = 'qj.feed.seq';
const FILTERS_KEY = 'qj.feed.filters';

/** Stream ids ("<ms>-<n>") compare as number pairs. */
export function compareSeq(a, b) {
  const [am, an] = a.split('-').map(BigInt);
  const [bm, bn] = b.split('-').map(BigInt);
  return am === bm ? (an === bn ? 0 : an < bn ? -1 : 1) : am < bm ? -1 : 1;
}
const validSeq = (s) => typeof s === 'string' && /^\d{1,20}-\d{1,20}$/.test(s);

const NO_FILTERS = { rule: '', severity: '', region: '', agency: '', enterprise: '', officer: '', from: '', to: '', unresolved: false };
/** Filters the list asks the service for (a change re-reads the list); `unresolved` only hides rows. */
const SERVER_FILTERS = ['rule', 'severity', 'region', 'agency', 'enterprise', 'officer', 'from', 'to'];

/** The day after a YYYY-MM-DD date: a 至 date includes its whole day, the API's `to` is exclusive. */
const dayAfter = (date) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

function readFilters() {
  try {
    const f = JSON.parse(localStorage.getItem(FILTERS_KEY) ?? '{}');
    return { ...NO_FILTERS, ...Object.fromEntries(Object.keys(NO_FILTERS).map((k) => [k, f[k] ?? NO_FILTERS[k]])), unresolved: !!f.unresolved };
  } catch {
    return { ...NO_FILTERS };
  }
}

/**
 * `scope.act`: the role may sign for and handle alerts (签收, 处理, 重新打开); `scope.silences`: it may pause
 * reminders. Without them those controls are not drawn at all.
 */
export function startFeed({ root, onCount, onConnection, scope = { act: true, silences: true } }) {
  const els = {
    list: root.querySelector('#alert-list'),
    scroller: root.querySelector('#alert-scroller'),
    empty: root.querySelector('#feed-empty'),
    notice: root.querySelector('#feed-notice'),
    detail: root.querySelector('#alert-detail'),
    filters: root.querySelector('#feed-filters'),
    unacked: root.querySelector('#unacked-count'),
    silencesButton: root.querySelector('#open-silences'),
    more: root.querySelector('#feed-more'),
  };

  const state = {
    alerts: new Map(),
    rows: new Map(),
    selected: null,
    filters: readFilters(),
    position: validSeq(sessionStorage.getItem(SEQ_KEY)) ? sessionStorage.getItem(SEQ_KEY) : null,
    loaded: false,
    pending: null,
    awaitingSubscribed: false,
    loadToken: 0,
    retryTimer: null,
    moreOpen: false,
    /** Rows kept: MAX_ROWS, raised by a page each time 加载更早的预警 is pressed. */
    maxRows: MAX_ROWS,
    /** Where the next older page starts (the full list's cursor), null at its end. */
    olderCursor: null,
    live: false,
  };

  // ---------- position (last seq seen) ----------

  function setPosition(seq) {
    if (seq === null) {
      state.position = null;
      sessionStorage.removeItem(SEQ_KEY);
      return;
    }
    if (!validSeq(seq)) return;
    if (state.position && compareSeq(seq, state.position) <= 0) return;
    state.position = seq;
    sessionStorage.setItem(SEQ_KEY, seq);
  }

  // ---------- filters ----------

  const form = els.filters;
  for (const key of SERVER_FILTERS) form[key].value = state.filters[key];
  form.unresolved.checked = state.filters.unresolved;
  // Regions and agencies are picked by name; the options arrive after the page, so the saved choice is set again.
  fillRegionOptions(form.region).then(() => { form.region.value = state.filters.region; });
  api.get(`/v1/agencies${query({ limit: 200 })}`).then(({ items = [] }) => {
    for (const a of items) form.agency.append(h('option', { value: a.id, title: a.id }, a.name));
    form.agency.value = state.filters.agency;
  }).catch(() => { /* no reference data readable: the list still shows every agency */ });
  enterpriseSearch(form.enterprise, root.querySelector('#enterprise-options'));
  officerSearch(form.officer, root.querySelector('#officer-options'));
  els.list.classList.toggle('hide-resolved', state.filters.unresolved);

  listRules().then((rules) => {
    const select = form.rule;
    for (const rule of rules) select.append(h('option', { value: rule.id }, `${rule.title?.zh ?? rule.id}（${rule.id}）`));
    select.value = state.filters.rule;
    if (select.value !== state.filters.rule) select.append(h('option', { value: state.filters.rule }, state.filters.rule));
    select.value = state.filters.rule;
  }).catch(() => { /* the filter still works with a typed id; the detail shows the error */ });

  function readForm() {
    const enterprise = enterpriseId(form.enterprise, root.querySelector('#enterprise-options'));
    const officer = officerId(form.officer, root.querySelector('#officer-options'));
    const { from, to } = form;
    const rangeOk = !from.value || !to.value || from.value <= to.value;
    to.setCustomValidity(rangeOk ? '' : '结束日期不能早于开始日期');
    if (!rangeOk) {
      to.reportValidity();
      return null;
    }
    return {
      rule: form.rule.value, severity: form.severity.value, region: form.region.value, agency: form.agency.value,
      enterprise, officer, from: from.value, to: to.value, unresolved: form.unresolved.checked,
    };
  }

  function applyFilters() {
    const next = readForm();
    if (!next) return;
    const serverSide = SERVER_FILTERS.some((k) => next[k] !== state.filters[k]);
    state.filters = next;
    localStorage.setItem(FILTERS_KEY, JSON.stringify(next));
    els.list.classList.toggle('hide-resolved', next.unresolved);
    updateEmpty();
    if (!serverSide) return;
    // The list is re-read for the new filters and the feed re-subscribed with them, from the same position.
    state.loaded = false;
    if (socket.connected) subscribe();
    reload();
  }
  form.addEventListener('change', applyFilters);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });
  form.querySelector('#clear-filters').addEventListener('click', () => {
    for (const key of SERVER_FILTERS) form[key].value = '';
    form.unresolved.checked = false;
    applyFilters();
  });

  const wireFilters = () => {
    const f = {};
    if (state.filters.rule) f.rule = [state.filters.rule];
    if (state.filters.severity) f.severity = [state.filters.severity];
    if (state.filters.region) f.region = state.filters.region;
    if (state.filters.agency) f.agency = [state.filters.agency];
    return f; // the feed has no company or officer filter: passes() keeps the list to the chosen ones
  };

  const passes = (a) => (!state.filters.rule || a.rule_id === state.filters.rule)
    && (!state.filters.severity || a.severity === state.filters.severity)
    && (!state.filters.region || String(a.region ?? '').startsWith(state.filters.region))
    && (!state.filters.agency || a.agency_id === state.filters.agency)
    && (!state.filters.enterprise || a.enterprise_id === state.filters.enterprise)
    && (!state.filters.officer || (a.officer_ids ?? []).includes(state.filters.officer))
    && (!state.filters.from || (a.first_seen_at ?? '') >= bound(state.filters.from))
    && (!state.filters.to || (a.first_seen_at ?? '') < bound(dayAfter(state.filters.to)));
  // A date is a day in Shanghai; alerts carry UTC ISO times, which compare as text.
  const bound = (date) => new Date(`${date}T00:00:00+08:00`).toISOString();

  // ---------- the live feed ----------

  const socket = new FeedSocket({
    path: '/v1/alerts/stream',
    onState: (s, info) => onConnection?.(s, info),
    // The feed keeps being refused: ask the API why. A 401 opens the sign-in dialog (and the socket waits for it);
    // a 403 means this token may not read alerts at all, so there is nothing to reconnect for.
    onRefused: () => api.get(`/v1/alerts${query({ limit: 1 })}`).catch((err) => {
      if (!(err instanceof ApiError) || err.status !== 403) return;
      socket.stop();
      notice(err.message, 'error');
    }),
    onOpen: (hello) => {
      state.live = false;
      const latest = validSeq(hello.latest_seq) ? hello.latest_seq : null;
      // A position ahead of the server's newest entry belongs to another stream (e.g. Redis was replaced): start over.
      if (state.position && latest && compareSeq(state.position, latest) > 0) {
        setPosition(null);
        state.loaded = false;
      }
      if (!state.position && latest) setPosition(latest);
      if (!state.position) state.loaded = false;
      subscribe();
      if (!state.loaded) reload();
    },
    onMessage: (msg) => {
      switch (msg.type) {
        case 'subscribed':
          state.awaitingSubscribed = false;
          break;
        case 'alert':
          // Messages of a previous subscription still in flight: the new one replays what matters.
          if (state.awaitingSubscribed) return;
          if (state.pending) state.pending.push(msg);
          else applyAlert(msg, true);
          setPosition(msg.seq);
          break;
        case 'caught_up':
          if (state.awaitingSubscribed) return;
          setPosition(msg.seq);
          state.live = true;
          break;
        case 'reset':
          // Our position is older than the history the server keeps (or unknown to it): read the list again over
          // HTTP and follow live from now. Re-subscribing from "now" spares replaying everything still retained,
          // and what happens while the list loads is held and applied after it, so nothing falls in between.
          setPosition(null);
          state.loaded = false;
          subscribe();
          reload();
          break;
        case 'error':
          notice(`实时推送拒绝了订阅：${msg.field ? `${msg.field} ` : ''}${msg.message ?? ''}`, 'error');
          if (msg.field === 'after') {
            setPosition(null);
            state.loaded = false;
            subscribe();
            reload();
          }
          break;
        default:
          break;
      }
    },
  });

  function subscribe() {
    state.awaitingSubscribed = socket.send({ type: 'subscribe', filters: wireFilters(), after: state.position ?? null });
  }

  // ---------- the list over HTTP ----------

  /** The list's filters as the API reads them (the list and its export alike). */
  const listParams = () => {
    const f = state.filters;
    return {
      mode: 'active', rule: f.rule, severity: f.severity, region: f.region, agency: f.agency, enterprise: f.enterprise, officer: f.officer,
      from: f.from, to: f.to ? dayAfter(f.to) : '',
    };
  };
  const fetchAlerts = (extra) => api.get(`/v1/alerts${query({ ...listParams(), limit: PAGE, ...extra })}`);
  bindExport(root, '/v1/exports/alerts', listParams, (text) => notice(text, 'error'));

  async function reload() {
    const token = ++state.loadToken;
    clearTimeout(state.retryTimer);
    state.pending ??= [];
    els.list.setAttribute('aria-busy', 'true');
    try {
      const [open, acknowledged, recent] = await Promise.all([
        fetchAlerts({ status: 'open' }), fetchAlerts({ status: 'acknowledged' }), fetchAlerts({}),
      ]);
      if (token !== state.loadToken) return;
      state.moreOpen = open.next_cursor !== null && open.next_cursor !== undefined;
      // Open and acknowledged first (newest event first), then the recent rest.
      const unresolved = [...open.items, ...acknowledged.items]
        .sort((a, b) => (a.first_seen_at < b.first_seen_at ? 1 : a.first_seen_at > b.first_seen_at ? -1 : a.id < b.id ? 1 : -1));
      const seen = new Set();
      const ordered = [];
      for (const a of [...unresolved, ...recent.items]) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        ordered.push(a);
      }
      state.maxRows = MAX_ROWS;
      state.olderCursor = recent.next_cursor ?? null;
      replaceAll(ordered.slice(0, MAX_ROWS));
      showMore();
      const held = state.pending ?? [];
      state.pending = null;
      state.loaded = true;
      for (const msg of held) applyAlert(msg, false);
      updateEmpty();
      notice('');
    } catch (err) {
      if (token !== state.loadToken) return;
      if (err instanceof ApiError && err.status === 403) {
        notice(err.message, 'error'); // retrying changes nothing
        return;
      }
      notice(`预警列表加载失败：${err.message}。稍后自动重试。`, 'error');
      state.retryTimer = setTimeout(() => {
        if (!state.loaded) reload();
      }, 5_000);
    } finally {
      if (token === state.loadToken) els.list.removeAttribute('aria-busy');
    }
  }

  function replaceAll(alerts) {
    state.alerts.clear();
    state.rows.clear();
    const rows = alerts.map((a) => {
      state.alerts.set(a.id, a);
      const row = renderRow(a);
      state.rows.set(a.id, row);
      return row;
    });
    els.list.replaceChildren(...rows);
    if (state.selected && !state.rows.has(state.selected) && !els.detail.hidden) {
      // The selected alert is outside the new list: keep the panel, it still works.
    }
    markSelected();
    updateCount();
    updateEmpty();
  }

  // ---------- applying one alert message ----------

  function applyAlert(msg, animate) {
    const a = msg.alert;
    if (!a || typeof a.id !== 'string' || a.mode === 'shadow') return;
    const current = state.alerts.get(a.id);
    if (current && Number(current.revision ?? 0) >= Number(a.revision ?? 0)) return;
    if (!current && !passes(a)) return;
    const merged = current ? { ...current, ...a } : a;
    state.alerts.set(a.id, merged);
    const row = state.rows.get(a.id);
    if (row) {
      const fresh = renderRow(merged);
      row.replaceWith(fresh);
      state.rows.set(a.id, fresh);
      if (row.contains(document.activeElement)) fresh.querySelector('.row-main')?.focus({ preventScroll: true });
      highlight(fresh);
    } else {
      insertAtTop(merged, animate);
      if (msg.action === 'raised' || msg.action === 'reraised' || !current) {
        announce(`新预警：${L.severity(a.severity)}，${a.title?.zh ?? a.rule_id}`);
      }
    }
    if (a.id === state.selected) refreshDetail(merged);
    markSelected();
    updateCount();
    updateEmpty();
  }

  function insertAtTop(alert, animate) {
    const row = renderRow(alert);
    state.rows.set(alert.id, row);
    const scroller = els.scroller;
    const atTop = scroller.scrollTop < 4;
    // Keep what the reader looks at where it is: remember the first row in view and its offset.
    let anchor = null;
    let offset = 0;
    if (!atTop) {
      for (const r of els.list.children) {
        if (r.offsetTop + r.offsetHeight > scroller.scrollTop) {
          anchor = r;
          offset = r.offsetTop - scroller.scrollTop;
          break;
        }
      }
    }
    if (animate && atTop && !matchMedia('(prefers-reduced-motion: reduce)').matches) {
      row.classList.add('entering');
      row.addEventListener('animationend', () => row.classList.remove('entering'), { once: true });
    }
    els.list.prepend(row);
    if (anchor) scroller.scrollTop = anchor.offsetTop - offset;
    highlight(row);
    trim();
  }

  /** 加载更早的预警: the next page of the full list, appended below; the list keeps them. */
  async function loadOlder() {
    if (!state.olderCursor) return;
    els.more.disabled = true;
    try {
      const older = await fetchAlerts({ cursor: state.olderCursor });
      state.olderCursor = older.next_cursor ?? null;
      const rows = older.items.filter((a) => !state.alerts.has(a.id)).map((a) => {
        state.alerts.set(a.id, a);
        const row = renderRow(a);
        state.rows.set(a.id, row);
        return row;
      });
      state.maxRows = Math.max(state.maxRows, state.rows.size);
      els.list.append(...rows);
      markSelected();
      updateEmpty();
    } catch (err) {
      notice(`加载更早的预警失败：${err.message}`, 'error');
    } finally {
      els.more.disabled = false;
      showMore();
    }
  }
  const showMore = () => { els.more.hidden = !state.olderCursor; };
  els.more.addEventListener('click', loadOlder);

  /** At most state.maxRows rows: the oldest go first, never the selected one. */
  function trim() {
    let row = els.list.lastElementChild;
    while (state.rows.size > state.maxRows && row) {
      const previous = row.previousElementSibling;
      const id = row.dataset.id;
      if (id !== state.selected) {
        row.remove();
        state.rows.delete(id);
        state.alerts.delete(id);
      }
      row = previous;
    }
  }

  function highlight(row) {
    row.classList.remove('changed');
    // Restart the (single, slow) fade; no blinking.
    void row.offsetWidth;
    row.classList.add('changed');
    row.addEventListener('animationend', (ev) => {
      if (ev.animationName === 'settle') row.classList.remove('changed');
    });
  }

  function updateCount() {
    let open = 0;
    for (const a of state.alerts.values()) if (a.status === 'open') open++;
    const text = `${open}${state.moreOpen ? '+' : ''}`;
    els.unacked.querySelector('.n').textContent = text;
    els.unacked.dataset.count = String(open);
    onCount?.(open, state.moreOpen);
  }

  function updateEmpty() {
    const visible = [...state.alerts.values()].some((a) => !state.filters.unresolved || a.status !== 'resolved');
    els.empty.hidden = visible || !state.loaded;
  }

  function notice(text, kind = 'info') {
    els.notice.textContent = text;
    els.notice.hidden = !text;
    els.notice.dataset.kind = kind;
  }

  // ---------- rows ----------

  function renderRow(a) {
    const escalated = Number(a.escalation ?? 0) > 0;
    return h('li', {
      class: ['alert-row', `sev-${a.severity}`, `status-${a.status}`, escalated && 'escalated'],
      dataset: { id: a.id, rule: a.rule_id, status: a.status, severity: a.severity, revision: String(a.revision ?? '') },
    },
    h('button', { type: 'button', class: 'row-main', 'aria-describedby': undefined, onclick: () => select(a.id) },
      h('span', { class: 'row-head' },
        severityBadge(a.severity),
        h('span', { class: 'row-title' }, a.title?.zh || a.rule_id),
        escalated && h('span', { class: 'tag tag-escalated' }, Number(a.escalation) > 1 ? `已升级 ×${a.escalation}` : '已升级'),
        Number(a.count) > 1 && h('span', { class: 'tag tag-count', title: '累计次数' }, `${a.count} 次`),
        h('span', { class: `status-chip status-${a.status}` }, statusText(a))),
      h('span', { class: 'row-message' }, a.message?.zh ?? ''),
      h('span', { class: 'row-meta' },
        h('span', {}, '发生 ', timeEl(a.first_seen_at ?? a.last_seen_at, { mode: 'short' })),
        h('span', {}, '预警 ', timeEl(a.raised_at, { mode: 'relative' })),
        a.enterprise_id && nameEl('enterprise', a.enterprise_id, { className: 'row-enterprise' }),
        a.agency_id && nameEl('agency', a.agency_id, { className: 'row-agency' }),
        a.region && nameEl('region', a.region, { className: 'row-region' }))));
  }

  const statusText = (a) => (a.status === 'resolved' && a.resolution === 'cleared' ? '系统撤销' : L.status(a.status));

  function markSelected() {
    for (const [id, row] of state.rows) {
      const on = id === state.selected;
      row.classList.toggle('selected', on);
      row.querySelector('.row-main')?.setAttribute('aria-current', on ? 'true' : 'false');
    }
  }

  // Arrow keys move between rows; Home/End jump; Enter/Space (the button) opens.
  els.list.addEventListener('keydown', (ev) => {
    const button = ev.target.closest?.('.row-main');
    if (!button) return;
    const row = button.closest('.alert-row');
    const visible = (r) => r && r.offsetParent !== null;
    let target = null;
    if (ev.key === 'ArrowDown' || ev.key === 'j') {
      target = row.nextElementSibling;
      while (target && !visible(target)) target = target.nextElementSibling;
    } else if (ev.key === 'ArrowUp' || ev.key === 'k') {
      target = row.previousElementSibling;
      while (target && !visible(target)) target = target.previousElementSibling;
    } else if (ev.key === 'Home') target = [...els.list.children].find(visible);
    else if (ev.key === 'End') target = [...els.list.children].reverse().find(visible);
    if (!target) return;
    ev.preventDefault();
    target.querySelector('.row-main').focus();
  });

  // ---------- detail ----------

  let detailToken = 0;
  let detailFull = null;
  let refreshTimer = null;

  async function select(id) {
    state.selected = id;
    markSelected();
    const token = ++detailToken;
    const known = state.alerts.get(id);
    els.detail.hidden = false;
    els.detail.dataset.id = id;
    detailFull = null;
    actions = null;
    slots = null;
    fill(els.detail, known ? detailHeader(known) : null, h('p', { class: 'muted loading' }, '正在加载详情…'));
    try {
      const full = await api.get(`/v1/alerts/${encodeURIComponent(id)}`);
      if (token !== detailToken) return;
      detailFull = full;
      renderDetail(full, token);
    } catch (err) {
      if (token !== detailToken) return;
      fill(els.detail, known ? detailHeader(known) : null, h('p', { class: 'error', role: 'alert' }, `详情加载失败：${err.message}`));
    }
  }

  /** A change to the selected alert arrived: re-read it (history, evidence), keeping what the user typed. */
  function refreshDetail() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      const id = state.selected;
      if (!id) return;
      const token = detailToken;
      try {
        const full = await api.get(`/v1/alerts/${encodeURIComponent(id)}`);
        if (token !== detailToken || id !== state.selected) return;
        if (detailFull && Number(full.revision) < Number(detailFull.revision)) return;
        detailFull = full;
        renderDetail(full, token);
      } catch { /* the next change tries again */ }
    }, 250);
  }

  function closeDetail() {
    const id = state.selected;
    state.selected = null;
    detailToken++;
    els.detail.hidden = true;
    fill(els.detail);
    markSelected();
    state.rows.get(id)?.querySelector('.row-main')?.focus();
  }

  els.detail.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !ev.target.closest('dialog')) closeDetail();
  });

  function detailHeader(a) {
    const escalated = Number(a.escalation ?? 0) > 0;
    return h('header', { class: 'detail-head' },
      h('div', { class: 'detail-tags' },
        severityBadge(a.severity),
        h('span', { class: `status-chip status-${a.status}` }, statusText(a)),
        escalated && h('span', { class: 'tag tag-escalated' }, `已升级${Number(a.escalation) > 1 ? ` ×${a.escalation}` : ''}`),
        a.mode === 'shadow' && h('span', { class: 'tag' }, '试运行')),
      h('h2', { id: 'detail-title', tabindex: '-1' }, a.title?.zh ?? a.rule_id),
      h('button', { type: 'button', class: 'quiet print', 'data-action': 'print', title: '打印预警处置单', onclick: () => printAlert(detailFull ?? a) }, '打印处置单'),
      h('button', { type: 'button', class: 'close', 'aria-label': '关闭详情', title: '关闭（Esc）', onclick: closeDetail }, '×'));
  }

  // The panel's slots (and the actions with the note being typed) stay in place across live re-renders of the same alert.
  let actions = null;
  let slots = null;

  async function renderDetail(a, token) {
    const rule = await getRule(a.rule_id).catch((err) => ({ error: err }));
    if (token !== detailToken) return;
    if (!actions || actions.id !== a.id || !slots || !els.detail.contains(actions.el)) {
      actions = actionsPanel(a);
      slots = { head: h('div', {}), message: h('p', { class: 'detail-message' }), body: h('div', {}) };
      fill(els.detail, slots.head, slots.message, actions.el, slots.body);
    }
    actions.update(a);
    const scroll = els.detail.scrollTop;
    fill(slots.head, detailHeader(a));
    slots.message.textContent = a.message?.zh ?? '';
    fill(slots.body,
      section('概况', facts([
        ['企业', nameEl('enterprise', a.enterprise_id)],
        ['执法部门', a.agency_id ? nameEl('agency', a.agency_id) : ''],
        ['地区', nameEl('region', a.region)],
        ['执法人员', (a.officer_ids ?? []).length ? namesEl('officer', a.officer_ids) : ''],
        ['次数', number(a.count)],
        ['首次发生', timeEl(a.first_seen_at)],
        ['最近发生', timeEl(a.last_seen_at)],
        ['时间窗口', `${absolute(a.window_start)} 至 ${absolute(a.window_end)}`],
        ['预警时间', timeEl(a.raised_at)],
        ['最近更新', timeEl(a.updated_at)],
        ['签收', a.acknowledged_by ? h('span', {}, `${L.person(a.acknowledged_by)} · `, timeEl(a.acknowledged_at)) : ''],
        ['处理', a.resolved_at ? h('span', {}, `${L.person(a.resolved_by)} · ${L.resolution(a.resolution)} · `, timeEl(a.resolved_at)) : ''],
        ['处理说明', a.resolution_note],
        ['升级次数', Number(a.escalation) > 0 ? String(a.escalation) : ''],
        ['暂停提醒', (a.silenced_by ?? []).length ? `处于暂停提醒期间（${a.silenced_by.length} 条）` : ''],
        ['被合并', a.inhibited_by ? '已并入同一企业的另一条预警' : ''],
        ['预警编号', h('span', { class: 'mono' }, a.id)],
      ], 'facts two-col')),
      section('关键数据', figuresTable(a.figures)),
      section(`证据事件（${(a.evidence_events ?? []).length}）`, evidenceList(a)),
      section('依据规则', ruleBlock(a, rule)),
      section('处理记录', historyList(a.history ?? [])));
    els.detail.scrollTop = scroll;
  }

  function actionsPanel(alert) {
    const id = alert.id;
    const noteId = `note-${id}`;
    const message = h('p', { class: 'action-message', role: 'status', 'aria-live': 'polite', hidden: true });
    const report = (text, kind = 'error') => {
      message.textContent = text;
      message.dataset.kind = kind;
      message.hidden = !text;
      if (kind === 'error') message.setAttribute('role', 'alert');
      else message.setAttribute('role', 'status');
    };
    const note = h('textarea', { id: noteId, name: 'note', rows: '2', maxlength: '2000', placeholder: '处理意见或说明（签收时可选，重新打开时必填）' });
    const code = h('select', { name: 'code', 'aria-label': '处理结论' },
      L.RESOLUTION_CODES.map((c) => h('option', { value: c }, L.RESOLUTION[c])));
    const ack = h('button', { type: 'button', class: 'primary', 'data-action': 'ack' }, '签收');
    const resolve = h('button', { type: 'button', 'data-action': 'resolve' }, '处理完毕');
    const reopen = h('button', { type: 'button', 'data-action': 'reopen' }, '重新打开');
    const silence = h('button', { type: 'button', class: 'quiet', 'data-action': 'silence' }, '暂停提醒…');
    let busy = false;
    let current = alert;

    async function run(path, body, done) {
      if (busy) return;
      busy = true;
      el.setAttribute('aria-busy', 'true');
      report('');
      try {
        const updated = await api.post(`/v1/alerts/${encodeURIComponent(id)}/${path}`, body());
        note.value = '';
        report(done, 'ok');
        if (updated && updated.id === id) applyAlert({ alert: updated, action: path }, false);
        refreshDetail();
      } catch (err) {
        report(err instanceof ApiError ? err.message : `操作失败：${err.message}`);
      } finally {
        busy = false;
        el.removeAttribute('aria-busy');
      }
    }

    ack.addEventListener('click', () => run('ack', () => (note.value.trim() ? { note: note.value.trim() } : {}), '已签收。'));
    resolve.addEventListener('click', () => run('resolve', () => ({ code: code.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) }), `已处理完毕（${L.RESOLUTION[code.value]}）。`));
    reopen.addEventListener('click', () => {
      if (!note.value.trim()) {
        report('重新打开须填写原因（备注）。');
        note.focus();
        return;
      }
      run('reopen', () => ({ note: note.value.trim() }), '已重新打开。');
    });
    silence.addEventListener('click', () => openSilenceDialog(current, report));

    const el = h('section', { class: 'actions', 'aria-label': '处理', hidden: !scope.act },
      h('label', { for: noteId, class: 'label' }, '备注'),
      note,
      h('div', { class: 'action-row' }, ack, h('span', { class: 'resolve-group' }, code, resolve), reopen, scope.silences && silence),
      message);

    return {
      id,
      el,
      update(a) {
        current = a;
        ack.hidden = a.status !== 'open';
        resolve.parentElement.hidden = a.status === 'resolved';
        reopen.hidden = a.status !== 'resolved';
      },
    };
  }

  // ---------- silences ----------

  const DURATIONS = [[60, '1 小时'], [240, '4 小时'], [480, '8 小时（一个班次）'], [1440, '1 天'], [4320, '3 天'], [10080, '7 天']];

  function openSilenceDialog(alert, reportOnPanel) {
    const error = h('p', { class: 'action-message', role: 'alert', hidden: true, dataset: { kind: 'error' } });
    const reason = h('textarea', { name: 'reason', required: true, rows: '3', maxlength: '500', placeholder: '例如：该企业正在开展联合专项检查，已报备，预计今日结束' });
    const duration = h('select', { name: 'duration' }, DURATIONS.map(([m, text]) => h('option', { value: String(m), selected: m === 480 }, text)));
    const withAgency = h('input', { type: 'checkbox', name: 'agency', checked: Boolean(alert.agency_id), disabled: !alert.agency_id });
    const submit = h('button', { type: 'submit', class: 'primary' }, '暂停提醒');
    const cancel = h('button', { type: 'button', value: 'cancel' }, '取消');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'silence-title' },
      h('form', { method: 'dialog', novalidate: true },
        h('h2', { id: 'silence-title' }, '暂停提醒'),
        h('p', { class: 'muted' }, '暂停提醒期间，同一规则、同一企业（及执法部门）的新预警照常记录，但不再推送提醒。'),
        facts([
          ['规则', h('span', { title: alert.rule_id }, alert.title?.zh ?? alert.rule_id)],
          ['企业', nameEl('enterprise', alert.enterprise_id)],
        ]),
        h('label', { class: 'check' }, withAgency, ' 仅限执法部门 ', alert.agency_id ? nameEl('agency', alert.agency_id) : '—'),
        h('label', { class: 'label' }, '原因（必填）', reason),
        h('label', { class: 'label' }, '时长', duration),
        error,
        h('div', { class: 'action-row' }, submit, cancel)));
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());
    dialog.querySelector('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fail = (text) => {
        error.textContent = text;
        error.hidden = false;
      };
      if (!reason.value.trim()) {
        fail('请填写暂停提醒的原因。');
        reason.focus();
        return;
      }
      const matchers = { rule: alert.rule_id, enterprise: alert.enterprise_id };
      if (withAgency.checked && alert.agency_id) matchers.agency = alert.agency_id;
      submit.disabled = true;
      try {
        const created = await api.post('/v1/silences', {
          matchers, reason: reason.value.trim(), duration_minutes: Number(duration.value),
        });
        dialog.close();
        reportOnPanel(`已暂停提醒${created?.ends_at ? `，至 ${absolute(created.ends_at)}` : ''}。`, 'ok');
        refreshSilenceCount();
      } catch (err) {
        fail(err instanceof ApiError && err.status === 404 && err.body?.error === 'not_found' && /route/.test(err.body?.message ?? '')
          ? '暂停提醒功能暂不可用。'
          : err.message);
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  }

  async function refreshSilenceCount() {
    try {
      const { items = [] } = await api.get('/v1/silences');
      const active = items.filter((s) => s.state === 'active').length;
      els.silencesButton.querySelector('.n').textContent = String(active);
    } catch {
      els.silencesButton.querySelector('.n').textContent = '—';
    }
  }

  const ruleTitles = new Map();
  listRules().then((rules) => { for (const r of rules) ruleTitles.set(r.id, r.title?.zh ?? r.id); }).catch(() => {});
  const describeMatchers = (m = {}) => {
    const parts = [
      m.rule && h('span', { title: m.rule }, `规则「${ruleTitles.get(m.rule) ?? m.rule}」`),
      m.enterprise && ['企业 ', nameEl('enterprise', m.enterprise)],
      m.agency && ['部门 ', nameEl('agency', m.agency)],
      m.region && ['地区 ', nameEl('region', m.region)],
    ].filter(Boolean);
    return parts.length ? parts.flatMap((p, i) => (i === 0 ? [p] : [' · ', p])) : '全部';
  };

  async function openSilencesList() {
    const list = h('div', { class: 'silence-list' }, h('p', { class: 'muted' }, '正在加载…'));
    const error = h('p', { class: 'action-message', role: 'alert', hidden: true, dataset: { kind: 'error' } });
    const showExpired = h('input', { type: 'checkbox' });
    const close = h('button', { type: 'button' }, '关闭');
    const dialog = h('dialog', { class: 'dialog wide', 'aria-labelledby': 'silences-title' },
      h('h2', { id: 'silences-title' }, '暂停提醒'),
      h('label', { class: 'check' }, showExpired, ' 显示已失效的'),
      list, error, h('div', { class: 'action-row' }, close));
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());

    async function load() {
      try {
        const { items = [] } = await api.get(`/v1/silences${showExpired.checked ? '?state=all' : ''}`);
        const shown = items
          .filter((s) => showExpired.checked || s.state === 'active')
          .sort((a, b) => (a.state === b.state ? (a.created_at < b.created_at ? 1 : -1) : a.state === 'active' ? -1 : 1));
        els.silencesButton.querySelector('.n').textContent = String(items.filter((s) => s.state === 'active').length);
        fill(list, shown.length === 0 ? h('p', { class: 'muted' }, showExpired.checked ? '没有暂停提醒记录。' : '当前没有生效的暂停提醒。') : h('ul', {}, shown.map((s) => h('li', { class: `silence state-${s.state}` },
          h('div', { class: 'silence-what' }, describeMatchers(s.matchers)),
          h('div', {}, s.reason),
          h('div', { class: 'muted' },
            `${L.person(s.created_by)} 设置于 `, timeEl(s.created_at, { mode: 'short' }),
            s.state === 'active' ? [' · 至 ', timeEl(s.ends_at)] : [' · 已失效', s.expired_by ? `（${L.person(s.expired_by)} 恢复）` : '']),
          s.state === 'active' && h('button', { type: 'button', onclick: () => expire(s) }, '恢复提醒')))));
      } catch (err) {
        fill(list, h('p', { class: 'muted' }, err instanceof ApiError && err.status === 404 ? '暂停提醒功能暂不可用。' : `加载失败：${err.message}`));
      }
    }
    async function expire(s) {
      try {
        await api.post(`/v1/silences/${encodeURIComponent(s.id)}/expire`, {});
        error.hidden = true;
        load();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    }
    showExpired.addEventListener('change', load);
    document.body.append(dialog);
    dialog.showModal();
    load();
  }
  els.silencesButton.addEventListener('click', openSilencesList);

  // ---------- detail sections ----------

  function section(title, body) {
    return h('section', { class: 'detail-section' }, h('h3', {}, title), body);
  }

  function figuresTable(figures) {
    const entries = Object.entries(figures ?? {});
    if (entries.length === 0) return h('p', { class: 'muted' }, '无');
    return h('table', { class: 'figures' },
      h('tbody', {}, entries.map(([key, value]) => h('tr', {},
        h('th', { scope: 'row', title: key }, L.figure(key)),
        h('td', {}, figureValue(key, value))))));
  }

  const figureValue = (key, value) => {
    if (value === null || value === undefined || value === '') return '—';
    if (key === 'urgent_reason') return L.URGENT_REASON[value] ?? String(value);
    if (typeof value === 'boolean') return value ? '是' : '否';
    if (typeof value === 'number') return number(value);
    return String(value);
  };

  function evidenceList(a) {
    const events = a.evidence_events ?? [];
    if (events.length === 0) {
      const n = (a.evidence ?? []).length;
      return h('p', { class: 'muted' }, n ? `证据事件尚未入库（${n} 条）` : '无');
    }
    return h('ol', { class: 'evidence' }, events.map(({ role, event }) => h('li', { class: `evidence-item role-${role}` },
      h('div', { class: 'evidence-head' },
        h('span', { class: 'tag' }, L.role(role)),
        h('strong', {}, L.eventType(event.type)),
        timeEl(event.occurred_at)),
      facts(L.EVENT_FIELDS.filter(([key]) => key !== 'occurred_at' && event[key] !== undefined).map(([key, text, kind]) => [text, eventValue(event[key], kind)]), 'facts compact'))));
  }

  const eventValue = (value, kind) => {
    if (value === null || value === undefined) return '';
    if (kind === 'time') return absolute(value);
    if (kind === 'date') return String(value);
    if (kind && typeof kind === 'object') return kind[String(value)] ?? String(value);
    if (kind === 'officer') return namesEl('officer', value);
    if (Array.isArray(value)) return value.join('、');
    if (typeof value === 'object') {
      if ('lat' in value && 'lng' in value) return `${value.address ? `${value.address} ` : ''}(${value.lat}, ${value.lng})`;
      return JSON.stringify(value);
    }
    if (typeof value === 'boolean') return value ? '是' : '否';
    return String(value);
  };

  function ruleBlock(a, rule) {
    if (!rule || rule.error) return h('p', { class: 'error' }, `规则 ${a.rule_id} 加载失败：${rule?.error?.message ?? ''}`);
    const variant = a.variant
      ? (rule.detect?.variants ?? []).find((v) => v.id === a.variant)
        ?? (rule.exemptions ?? []).map((e) => e.otherwise).find((o) => o?.variant === a.variant)
      : null;
    const params = Object.entries(a.params ?? {});
    return h('div', { class: 'rule' },
      facts([
        ['规则', `${rule.title?.zh ?? rule.id}（${rule.id}，第 ${a.rule_version ?? rule.version} 版）`],
        ['情形', a.variant ? `${variant?.title?.zh ?? a.variant}（${a.variant}）` : ''],
        ['规则说明', rule.description?.zh],
        ['政策来源', rule.source ? h('span', { class: 'source' }, h('span', { class: 'mono' }, rule.source.document ?? ''), rule.source.clause ? h('q', {}, rule.source.clause) : '') : ''],
      ]),
      params.length > 0 && h('table', { class: 'figures params' },
        h('caption', {}, '生效参数（本地区）'),
        h('tbody', {}, params.map(([key, value]) => {
          const base = rule.params?.[key];
          const differs = base !== undefined && JSON.stringify(base) !== JSON.stringify(value);
          return h('tr', {},
            h('th', { scope: 'row', title: key }, L.param(key)),
            h('td', {}, Array.isArray(value) ? value.join('、') : String(value), differs ? h('span', { class: 'muted' }, `（默认 ${Array.isArray(base) ? base.join('、') : base}）`) : ''));
        }))));
  }

  function historyList(history) {
    if (history.length === 0) return h('p', { class: 'muted' }, '无');
    return h('ol', { class: 'history' }, [...history].reverse().map((c) => h('li', {},
      h('div', {}, h('strong', {}, L.action(c.action)), ` · ${L.person(c.actor)} · `, timeEl(c.at)),
      c.from_status !== c.to_status && h('div', { class: 'muted' }, `${c.from_status ? L.status(c.from_status) : '—'} → ${L.status(c.to_status)}`),
      c.note && h('div', { class: 'note' }, c.note))));
  }

  // ---------- start ----------

  els.silencesButton.hidden = !scope.silences;
  if (scope.silences) refreshSilenceCount();
  socket.start();

  return {
    socket,
    state,
    select,
    reload,
  };
}

export function severityBadge(severity) {
  return h('span', { class: `sev-badge sev-${severity}`, title: `预警级别：${L.severity(severity)}` }, L.severityShort(severity));
}
