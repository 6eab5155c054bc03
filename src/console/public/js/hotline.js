/**
 * 12345 工单: the hotline staff's ticket queue. The queue is read over HTTP
 * (urgent first, then oldest first), refreshed every 10 s while the view is
 * shown and after every action; the selected ticket's detail panel offers
 * claim/release, categorise, assign, notes, resolve and reopen.
 */
import { api, ApiError, listRules, query } from './api.js';
import { actorName } from './actor.js';
import { facts, fill, h } from './dom.js';
import { absolute, duration, timeEl } from './format.js';
import * as L from './labels.js';
import { bindExport } from './exports.js';
import { divisionsLoaded, nameEl, regionName } from './names.js';
import { printTicket } from './print.js';

const REFRESH_MS = 10_000;
const LIMIT = 200;
const FILTERS_KEY = 'qj.hotline.filters';

function readFilters() {
  try {
    const f = JSON.parse(localStorage.getItem(FILTERS_KEY) ?? '{}');
    return { state: f.state ?? 'open', priority: f.priority ?? '', category: f.category ?? '', region: f.region ?? '' };
  } catch {
    return { state: 'open', priority: '', category: '', region: '' };
  }
}

/** A claim counts while its lease runs (a lapsed one may not be recorded as released yet). */
const liveClaim = (t, now = Date.now()) => Boolean(t.claimed_by) && Boolean(t.claimed_until) && Date.parse(t.claimed_until) > now;

/** Categories: the complaint categories, the ids of the rules in force (tickets from alerts), other. */
const ruleTitles = new Map();
const categoryLabel = (c) => L.CATEGORY[c] ?? (ruleTitles.has(c) ? `预警：${ruleTitles.get(c)}` : L.category(c));

const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2 };
const byQueueOrder = (a, b) => (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9)
  || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0);

/** Is a due time missed (and still relevant)? */
function overdue(ticket, which, now = Date.now()) {
  if ((ticket.sla_breaches ?? []).includes(which)) return true;
  const due = which === 'accept' ? ticket.accept_due_at : ticket.resolve_due_at;
  const done = which === 'accept' ? ticket.accepted_at ?? (ticket.state !== 'new' ? ticket.updated_at : null) : ticket.resolved_at;
  return Boolean(due) && !done && Date.parse(due) < now;
}

export function startHotline({ root }) {
  const els = {
    form: root.querySelector('#ticket-filters'),
    table: root.querySelector('#ticket-table'),
    body: root.querySelector('#ticket-rows'),
    empty: root.querySelector('#tickets-empty'),
    notice: root.querySelector('#tickets-notice'),
    updated: root.querySelector('#tickets-updated'),
    detail: root.querySelector('#ticket-detail'),
    count: root.querySelector('#ticket-count'),
  };
  const state = { filters: readFilters(), tickets: [], selected: null, timer: null, visible: false, token: 0, detailToken: 0, panel: null };

  const form = els.form;
  for (const key of ['state', 'priority', 'category', 'region']) form[key].value = state.filters[key];
  const rulesLoaded = listRules().then((rules) => {
    for (const r of rules) {
      ruleTitles.set(r.id, r.title?.zh ?? r.id);
      form.category.append(h('option', { value: r.id }, `预警：${r.title?.zh ?? r.id}`));
    }
    form.category.value = state.filters.category;
  }).catch(() => {});
  form.addEventListener('change', () => applyFilters());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });

  function applyFilters() {
    const region = form.region.value.trim();
    const ok = region === '' || /^\d{2,6}$/.test(region);
    form.region.setCustomValidity(ok ? '' : '地区为2至6位行政区划代码');
    if (!ok) {
      form.region.reportValidity();
      return;
    }
    state.filters = { state: form.state.value, priority: form.priority.value, category: form.category.value, region };
    localStorage.setItem(FILTERS_KEY, JSON.stringify(state.filters));
    refresh();
  }

  function notice(text, kind = 'info') {
    els.notice.textContent = text;
    els.notice.hidden = !text;
    els.notice.dataset.kind = kind;
  }

  // 导出: the queue's filters; 全部 spans two lists, so a state is chosen first.
  bindExport(root, '/v1/exports/tickets', () => {
    const f = state.filters;
    return { state: f.state === 'open' ? '' : f.state, priority: f.priority, category: f.category, region: f.region };
  }, (text) => notice(text, 'error'));
  const exportButtons = () => root.querySelectorAll('button[data-export]');
  const markExport = () => {
    for (const b of exportButtons()) {
      b.disabled = state.filters.state === 'all';
      b.title = b.disabled ? '请先选择具体状态再导出' : '导出当前筛选条件下的工单';
    }
  };

  async function fetchState(s) {
    const f = state.filters;
    return api.get(`/v1/hotline/tickets${query({ state: s, priority: f.priority, category: f.category, region: f.region, limit: LIMIT })}`);
  }

  async function refresh() {
    const token = ++state.token;
    try {
      let items;
      let more = false;
      if (state.filters.state === 'all') {
        // The API lists unresolved tickets when no state is given; "all" adds the resolved ones after them.
        const pages = await Promise.all([fetchState(''), fetchState('resolved')]);
        items = [...(pages[0].items ?? []).sort(byQueueOrder), ...(pages[1].items ?? [])];
        more = pages.some((p) => p.next_cursor);
      } else {
        // '' (open): every ticket not resolved, in queue order (urgent first, then oldest first).
        const page = await fetchState(state.filters.state === 'open' ? '' : state.filters.state);
        items = page.items ?? [];
        more = Boolean(page.next_cursor);
      }
      if (token !== state.token) return;
      markExport();
      state.tickets = items;
      renderRows();
      els.count.textContent = `${items.length}${more ? '+' : ''} 件`;
      els.updated.replaceChildren('更新于 ', timeEl(new Date(), { mode: 'absolute' }));
      notice('');
      if (state.selected) refreshDetail();
    } catch (err) {
      if (token !== state.token) return;
      notice(err instanceof ApiError && err.status === 404 && /route/.test(err.body?.message ?? '')
        ? '12345 工单服务尚未启用。'
        : err instanceof ApiError && err.status === 403 ? err.message
          : `工单加载失败：${err.message}。稍后自动重试。`, 'error');
    }
  }

  function renderRows() {
    const now = Date.now();
    const focusedId = document.activeElement?.closest?.('tr')?.dataset.id;
    const rows = state.tickets.map((t) => {
      const acceptLate = t.state === 'new' && overdue(t, 'accept', now);
      const resolveLate = t.state !== 'resolved' && overdue(t, 'resolve', now);
      const late = acceptLate || resolveLate || (t.sla_breaches ?? []).length > 0;
      const row = h('tr', {
        class: [`prio-${t.priority}`, `state-${t.state}`, late && 'overdue', t.id === state.selected && 'selected'],
        dataset: { id: t.id, state: t.state },
      },
      h('td', {}, h('span', { class: `prio-badge prio-${t.priority}` }, L.priority(t.priority))),
      h('td', { class: 'ticket-title' },
        h('button', { type: 'button', class: 'link', 'aria-current': t.id === state.selected ? 'true' : 'false', onclick: () => select(t.id) }, t.title?.zh || t.description?.slice(0, 40) || t.id),
        h('div', { class: 'muted small' }, t.number ? [h('span', { class: 'mono ticket-number', title: t.id }, t.number), ' · '] : '', L.ticketSource(t.source), ' · ', t.enterprise_id ? nameEl('enterprise', t.enterprise_id) : '—')),
      h('td', {}, categoryLabel(t.category)),
      h('td', {}, h('span', { class: `state-chip state-${t.state}` }, L.ticketState(t.state)),
        liveClaim(t, now) ? h('div', { class: 'muted small' }, `认领人 ${t.claimed_by}`) : null,
        t.assignee ? h('div', { class: 'muted small' }, assigneeEl(t.assignee)) : null),
      // The clock stops when the ticket is closed: a 办结 ticket shows how long it took, not a wait that keeps growing.
      h('td', { title: absolute(t.created_at) }, duration((t.resolved_at ? Date.parse(t.resolved_at) : now) - Date.parse(t.created_at))),
      h('td', { class: acceptLate ? 'late' : '' }, dueCell(t, 'accept', acceptLate)),
      h('td', { class: resolveLate ? 'late' : '' }, dueCell(t, 'resolve', resolveLate)));
      return row;
    });
    els.body.replaceChildren(...rows);
    els.empty.hidden = rows.length > 0;
    if (focusedId) els.body.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] button`)?.focus({ preventScroll: true });
  }

  function dueCell(t, which, late) {
    const due = which === 'accept' ? t.accept_due_at : t.resolve_due_at;
    const done = which === 'accept' ? t.accepted_at : t.resolved_at;
    if (done) return h('span', { class: 'muted' }, '已完成 ', timeEl(done, { mode: 'absolute' }));
    if (!due) return '—';
    return h('span', {}, late ? h('strong', { class: 'late-label' }, '已超时 ') : null, timeEl(due, { mode: 'short' }));
  }

  // ---------- detail ----------

  async function select(id) {
    state.selected = id;
    for (const tr of els.body.children) {
      const on = tr.dataset.id === id;
      tr.classList.toggle('selected', on);
      tr.querySelector('button.link')?.setAttribute('aria-current', on ? 'true' : 'false');
    }
    els.detail.hidden = false;
    state.panel = null;
    fill(els.detail, h('p', { class: 'muted' }, '正在加载工单…'));
    await refreshDetail();
  }

  async function refreshDetail() {
    const id = state.selected;
    const token = ++state.detailToken;
    try {
      const body = await api.get(`/v1/hotline/tickets/${encodeURIComponent(id)}`);
      if (token !== state.detailToken || id !== state.selected) return;
      renderDetail(body);
    } catch (err) {
      if (token !== state.detailToken) return;
      if (!state.panel) fill(els.detail, h('p', { class: 'error', role: 'alert' }, `工单加载失败：${err.message}`));
    }
  }

  function closeDetail() {
    const id = state.selected;
    state.selected = null;
    state.panel = null;
    els.detail.hidden = true;
    fill(els.detail);
    renderRows();
    els.body.querySelector(`tr[data-id="${CSS.escape(id ?? '')}"] button`)?.focus();
  }
  els.detail.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeDetail();
  });

  function renderDetail(body) {
    const t = body.ticket ?? body;
    const notes = body.notes ?? t.notes ?? [];
    const history = body.history ?? t.history ?? [];
    if (!state.panel || state.panel.id !== t.id) {
      state.panel = actionsPanel(t);
      state.panel.slots = { head: h('div', {}), info: h('div', {}), tail: h('div', {}) };
      fill(els.detail, state.panel.slots.head, state.panel.slots.info, state.panel.el, state.panel.slots.tail);
    }
    state.panel.update(t);
    const { head, info, tail } = state.panel.slots;
    fill(head, h('header', { class: 'detail-head' },
      h('div', { class: 'detail-tags' },
        h('span', { class: `prio-badge prio-${t.priority}` }, L.priority(t.priority)),
        h('span', { class: `state-chip state-${t.state}` }, L.ticketState(t.state)),
        (t.sla_breaches ?? []).map((b) => h('span', { class: 'tag tag-late' }, L.sla(b)))),
      h('h2', {}, t.title?.zh || t.id),
      h('button', { type: 'button', class: 'quiet print', 'data-action': 'print', title: '打印工单', onclick: () => printTicket(t, history) }, '打印'),
      h('button', { type: 'button', class: 'close', 'aria-label': '关闭工单详情', title: '关闭（Esc）', onclick: closeDetail }, '×')));
    fill(info,
      t.description ? h('p', { class: 'detail-message' }, t.description) : null,
      facts([
        ['工单编号', h('span', { class: 'mono', title: t.id }, t.number || t.id)],
        ['来电人', t.complainant ? `${t.complainant.name ? `${t.complainant.name} · ` : ''}${t.complainant.phone}` : ''],
        ['回访', t.callback ? `${L.satisfaction(t.callback.satisfaction)} · ${L.person(t.callback.by)} · ${absolute(t.callback.at)}${t.callback.note ? ` · ${t.callback.note}` : ''}` : ''],
        ['来源', `${L.ticketSource(t.source)}${t.source_id ? `（${t.source_id}）` : ''}`],
        ['关联预警', t.alert_id ? h('span', { class: 'mono' }, t.alert_id) : ''],
        ['企业', t.enterprise_id ? nameEl('enterprise', t.enterprise_id) : ''],
        ['执法部门', t.agency_id ? nameEl('agency', t.agency_id) : ''],
        ['地区', t.region ? nameEl('region', t.region) : ''],
        ['分类', categoryLabel(t.category)],
        ['认领人', t.claimed_by ? h('span', {}, L.person(t.claimed_by), t.claimed_until ? [liveClaim(t) ? ' · 认领至 ' : ' · 认领已过期 ', timeEl(t.claimed_until, { mode: 'short' })] : '') : ''],
        ['转办给', t.assignee ? assigneeEl(t.assignee) : ''],
        ['登记时间', timeEl(t.created_at)],
        ['受理时限', h('span', { class: overdue(t, 'accept') && t.state === 'new' ? 'late' : '' }, timeEl(t.accept_due_at))],
        ['受理时间', t.accepted_at ? timeEl(t.accepted_at) : ''],
        ['办结时限', h('span', { class: overdue(t, 'resolve') && t.state !== 'resolved' ? 'late' : '' }, timeEl(t.resolve_due_at))],
        ['办结', t.resolved_at ? h('span', {}, `${L.outcome(t.outcome)} · `, timeEl(t.resolved_at)) : ''],
        ['办结说明', t.resolution_note],
      ]));
    fill(tail,
      h('section', { class: 'detail-section' }, h('h3', {}, `备注（${notes.length}）`),
        notes.length === 0 ? h('p', { class: 'muted' }, '无') : h('ol', { class: 'history' }, notes.map((n) => h('li', {},
          h('div', {}, h('strong', {}, L.person(n.actor ?? n.author)), ' · ', timeEl(n.at ?? n.created_at)),
          h('div', { class: 'note' }, n.text ?? n.note ?? ''))))),
      h('section', { class: 'detail-section' }, h('h3', {}, '办理记录'),
        history.length === 0 ? h('p', { class: 'muted' }, '无') : h('ol', { class: 'history' }, [...history].reverse().map((c) => h('li', {},
          h('div', {}, h('strong', {}, L.ticketAction(c.action ?? c.type)), ` · ${L.person(c.actor)} · `, timeEl(c.at ?? c.created_at)),
          historyDetail(c))))));
  }

  function historyDetail(c) {
    const parts = [];
    const detail = c.detail ?? c.data;
    const to = detail && typeof detail === 'object' && detail.to;
    if (c.from_state || c.to_state) parts.push(`${L.ticketState(c.from_state)} → ${L.ticketState(c.to_state)}`);
    if (c.note) parts.push(c.note);
    if (detail && typeof detail === 'object') {
      if (detail.category) parts.push(`分类：${L.category(detail.category)}`);
      if (detail.outcome) parts.push(`结果：${L.outcome(detail.outcome)}`);
    }
    if (!parts.length && !to) return null;
    return h('div', { class: 'muted' }, parts.join(' · '), to ? [parts.length ? ' · ' : '', '转办：', assigneeEl(to)] : '');
  }

  function actionsPanel(ticket) {
    const id = ticket.id;
    let current = ticket;
    const message = h('p', { class: 'action-message', hidden: true });
    const report = (text, kind = 'error') => {
      message.textContent = text;
      message.dataset.kind = kind;
      message.hidden = !text;
      message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    };
    const claim = h('button', { type: 'button', class: 'primary', 'data-action': 'claim' }, '认领');
    const claimHint = h('p', { class: 'muted small hint' });
    const release = h('button', { type: 'button', 'data-action': 'release' }, '退回');
    const category = h('select', { name: 'category', 'aria-label': '分类' },
      h('option', { value: '' }, '选择分类…'), Object.entries(L.CATEGORY).map(([v, t]) => h('option', { value: v }, t)));
    rulesLoaded.then(() => {
      const other = category.querySelector('option[value="other"]');
      for (const [id, title] of ruleTitles) category.insertBefore(h('option', { value: id }, `预警：${title}`), other);
      if (current.category && document.activeElement !== category) category.value = current.category;
    });
    const categorise = h('button', { type: 'button', 'data-action': 'categorise' }, '保存分类');
    const kind = h('select', { name: 'kind', 'aria-label': '转办对象类型' }, Object.entries(L.ASSIGNEE_KIND).map(([v, t]) => h('option', { value: v }, t)));
    // A unit is picked by name: an agency from the reference data of the ticket's city, or the 司法局 / 纪委监委 of
    // the ticket's county or city (an office is its division's code and a suffix, as the API names it).
    const unit = h('select', { name: 'unit', 'aria-label': '转办单位' });
    const region = String(ticket.region ?? '');
    const agencies = api.get(`/v1/agencies${query({ region: region.slice(0, 4) || undefined, limit: 200 })}`)
      .then(({ items = [] }) => items).catch(() => []);
    const OFFICE = { justice: ['SFJ', '司法局'], discipline: ['JWJW', '纪委监委'] };
    async function fillUnits() {
      const options = kind.value === 'agency'
        ? (await agencies).map((a) => [a.id, a.name])
        : [...new Set([region, `${region.slice(0, 4)}00`])].filter((d) => /^\d{6}$/.test(d))
          .map((d) => [`${d}-${OFFICE[kind.value][0]}`, `${regionName(d)}${OFFICE[kind.value][1]}`]);
      unit.replaceChildren(h('option', { value: '' }, '选择单位…'), ...options.map(([id, name]) => h('option', { value: id, title: id }, name)));
    }
    divisionsLoaded.then(fillUnits);
    kind.addEventListener('change', fillUnits);
    const target = () => unit.value;
    const targetName = () => unit.selectedOptions[0]?.textContent ?? unit.value;
    const assign = h('button', { type: 'button', 'data-action': 'assign' }, '转办');
    const noteText = h('textarea', { name: 'note-text', rows: '2', maxlength: '2000', placeholder: '办理备注，例如：已联系投诉人核实情况', 'aria-label': '备注内容' });
    const addNote = h('button', { type: 'button', 'data-action': 'note' }, '添加备注');
    const outcome = h('select', { name: 'outcome', 'aria-label': '办结结果' }, L.OUTCOMES.map((o) => h('option', { value: o }, L.OUTCOME[o])));
    const resolveNote = h('textarea', { name: 'resolve-note', rows: '2', maxlength: '2000', placeholder: '办结说明（必填）', 'aria-label': '办结说明' });
    const resolve = h('button', { type: 'button', 'data-action': 'resolve' }, '办结');
    // 回访: the caller is called back and says how satisfied they are; a complaint is closed only after it.
    const satisfaction = h('select', { name: 'satisfaction', 'aria-label': '满意度' },
      Object.entries(L.SATISFACTION).map(([v, t]) => h('option', { value: v }, t)));
    const callbackNote = h('textarea', { name: 'callback-note', rows: '2', maxlength: '2000', placeholder: '回访情况（选填）', 'aria-label': '回访情况' });
    const callback = h('button', { type: 'button', 'data-action': 'callback' }, '记录回访');
    const callbackDone = h('p', { class: 'muted small' });
    const reopenNote = h('textarea', { name: 'reopen-note', rows: '2', maxlength: '2000', placeholder: '重新打开的原因（必填）', 'aria-label': '重新打开原因' });
    const reopen = h('button', { type: 'button', 'data-action': 'reopen' }, '重新打开');
    let busy = false;
    let shownCategory = null;

    async function run(path, body, done, after) {
      if (busy) return;
      busy = true;
      el.setAttribute('aria-busy', 'true');
      report('');
      try {
        await api.post(`/v1/hotline/tickets/${encodeURIComponent(id)}/${path}`, body);
        after?.();
        report(done, 'ok');
      } catch (err) {
        report(err instanceof ApiError ? err.message : `操作失败：${err.message}`);
      } finally {
        busy = false;
        el.removeAttribute('aria-busy');
        await refresh();
        await refreshDetail();
      }
    }

    claim.addEventListener('click', () => run('claim', {}, '已认领，请在时限内办理。'));
    release.addEventListener('click', () => run('release', {}, '已退回，工单回到待认领队列。'));
    categorise.addEventListener('click', () => {
      if (!category.value) return report('请选择分类。');
      run('categorise', { category: category.value }, `已分类为「${categoryLabel(category.value)}」。`);
    });
    assign.addEventListener('click', () => {
      if (!target()) {
        unit.focus();
        return report('请选择转办单位。');
      }
      run('assign', { to: { kind: kind.value, id: target() } }, `已转办给${targetName()}。`, () => { unit.value = ''; });
    });
    addNote.addEventListener('click', () => {
      if (!noteText.value.trim()) {
        noteText.focus();
        return report('请填写备注内容。');
      }
      run('notes', { text: noteText.value.trim() }, '已添加备注。', () => { noteText.value = ''; });
    });
    callback.addEventListener('click', () => {
      run('callback', { satisfaction: satisfaction.value, ...(callbackNote.value.trim() ? { note: callbackNote.value.trim() } : {}) },
        `已回访（${L.satisfaction(satisfaction.value)}）。`, () => { callbackNote.value = ''; });
    });
    resolve.addEventListener('click', () => {
      if (current.source === 'complaint' && !current.callback) return report('办结前须先回访来电人，记录满意度。');
      if (!resolveNote.value.trim()) {
        resolveNote.focus();
        return report('办结须填写说明。');
      }
      run('resolve', { outcome: outcome.value, note: resolveNote.value.trim() }, `已办结（${L.outcome(outcome.value)}）。`, () => { resolveNote.value = ''; });
    });
    reopen.addEventListener('click', () => {
      if (!reopenNote.value.trim()) {
        reopenNote.focus();
        return report('重新打开须填写原因。');
      }
      run('reopen', { note: reopenNote.value.trim() }, '已重新打开。', () => { reopenNote.value = ''; });
    });

    const group = (title, ...children) => h('fieldset', { class: 'action-group' }, h('legend', {}, title), ...children);
    const groups = {
      claim: group('认领', h('div', { class: 'action-row' }, claim, release), claimHint),
      categorise: group('分类', h('div', { class: 'action-row' }, category, categorise)),
      assign: group('转办', h('div', { class: 'action-row' }, kind, unit, assign)),
      note: group('备注', noteText, h('div', { class: 'action-row' }, addNote)),
      callback: group('回访', callbackDone, h('div', { class: 'action-row' }, satisfaction), callbackNote, h('div', { class: 'action-row' }, callback)),
      resolve: group('办结', h('div', { class: 'action-row' }, outcome), resolveNote, h('div', { class: 'action-row' }, resolve)),
      reopen: group('重新打开', reopenNote, h('div', { class: 'action-row' }, reopen)),
    };
    const el = h('section', { class: 'actions ticket-actions', 'aria-label': '办理' }, message, Object.values(groups));

    return {
      id,
      el,
      update(t) {
        current = t;
        const me = actorName();
        const mine = liveClaim(t) && t.claimed_by === me;
        const heldByOther = liveClaim(t) && t.claimed_by !== me;
        const open = t.state !== 'resolved';
        claim.hidden = !open || mine;
        claim.textContent = t.claimed_by && !liveClaim(t) ? '重新认领' : '认领';
        release.hidden = !mine;
        claimHint.textContent = heldByOther ? `由「${t.claimed_by}」办理中；认领期满后可认领。` : mine ? '您正在办理此工单，操作会自动续期。' : '转办和办结须先认领。';
        // Follow the ticket's category when it changes, not over a choice being made.
        if (t.category !== shownCategory && document.activeElement !== category) {
          shownCategory = t.category;
          category.value = t.category;
        }
        groups.claim.hidden = !open;
        groups.categorise.hidden = !open;
        groups.assign.hidden = !open;
        groups.resolve.hidden = !open;
        groups.callback.hidden = !open;
        callbackDone.textContent = t.callback ? `已回访：${L.satisfaction(t.callback.satisfaction)}（${L.person(t.callback.by)}，${absolute(t.callback.at)}）` : '尚未回访。';
        resolve.disabled = t.source === 'complaint' && !t.callback;
        resolve.title = resolve.disabled ? '办结前须先回访' : '';
        groups.reopen.hidden = open;
      },
    };
  }

  // ---------- visibility ----------

  function tick() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      if (state.visible && document.visibilityState === 'visible') await refresh();
      if (state.visible) tick();
    }, REFRESH_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (state.visible && document.visibilityState === 'visible') refresh();
  });

  return {
    show() {
      if (state.visible) return;
      state.visible = true;
      refresh();
      tick();
    },
    hide() {
      state.visible = false;
      clearTimeout(state.timer);
    },
    refresh,
    state,
  };
}

/** A ticket's assignee by name, its code on hover: an agency from the reference data, an office from its division. */
function assigneeEl(assignee) {
  if (assignee.kind === 'agency') return h('span', {}, `${L.assigneeKind(assignee.kind)} `, nameEl('agency', assignee.id));
  const office = /^(\d{6})-(SFJ|JWJW)$/.exec(assignee.id);
  const name = office ? `${regionName(office[1])}${office[2] === 'SFJ' ? '司法局' : '纪委监委'}` : assignee.id;
  return h('span', { title: assignee.id }, name);
}
