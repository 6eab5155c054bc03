/**
 * 计划统筹: the office that coordinates inspections (云和 县综合执法办, 莆田 乡镇协同中心)
 * sees the plans still to come, by company, each with its stored plan check
 * (GET /v1/plans/upcoming): the verdict, the findings with the rule and clause
 * they cite, and the merge candidates side by side with the plan. One action
 * per plan records a suggestion to its agencies (合并/线上/变更/取消) through
 * POST /v1/plans/{id}/suggestions, which the audit log keeps with the person
 * on duty and the token's role.
 */
import { api, ApiError, query } from './api.js';
import { announce, errorLine, fill, h } from './dom.js';

const VERDICT = { ok: '无问题', advise: '建议调整', breach: '将违反规定' };
const CHECK = {
  annual_cap: '年度检查次数', quiet_period: '企业安静期', frequent_visits: '频繁检查', lead_time: '计划提前报备',
  advance_notice: '向企业预告', whitelist: '白名单审核', merge: '合并检查',
};
const ACTIONS = { merge: '合并检查', online: '线上检查', change: '变更检查', cancel: '取消检查' };
const LEVEL = { province: '省级', city: '市级', county: '县级' };

const windowText = (p) => (p.window_start === p.window_end ? p.window_start : `${p.window_start} 至 ${p.window_end}`);

function findingList(findings) {
  const shown = findings.filter((f) => f.level !== 'ok' || f.check === 'annual_cap' || f.check === 'advance_notice');
  if (shown.length === 0) return h('p', { class: 'muted small' }, '各项规则均无问题。');
  return h('ul', { class: 'findings' }, shown.map((f) => h('li', { class: `finding level-${f.level}`, dataset: { check: f.check } },
    h('strong', {}, CHECK[f.check] ?? f.check), ' ', h('span', { class: 'tag' }, VERDICT[f.level] ?? f.level), ' ', f.message.zh,
    h('div', { class: 'place-source' }, h('span', { class: 'mono small' }, `${f.rule_id} · ${f.source.document}`), h('q', { class: 'clause' }, f.source.clause)))));
}

/** The plan beside each merge candidate: who, which level, when, what. */
function sideBySide(item) {
  if (item.merge_candidates.length === 0) return null;
  const columns = [{ ...item, own: true }, ...item.merge_candidates];
  const row = (label, cell) => h('tr', {}, h('th', { scope: 'row' }, label), columns.map((c) => h('td', { class: c.own ? 'own' : null }, cell(c))));
  return h('table', { class: 'side-by-side', 'aria-label': `${item.plan_id} 与可合并计划对照` },
    h('thead', {}, h('tr', {}, h('th', {}, ''), columns.map((c) => h('th', { scope: 'col', dataset: { plan: c.plan_id } }, c.own ? `本计划 ${c.plan_id}` : `可合并 ${c.plan_id}`)))),
    h('tbody', {},
      row('执法部门', (c) => c.agency_name ?? c.agency_id),
      row('层级', (c) => LEVEL[c.own ? c.agency_level : c.level] ?? '未知'),
      row('检查时段', windowText),
      row('检查事项', (c) => (c.matters ?? []).join('、') || '—'),
      row('重叠天数', (c) => (c.own ? '—' : String(c.overlap_days)))));
}

function suggestionForm(item, onSent, say) {
  const change = item.suggestions.find((s) => s.action === 'change');
  const select = h('select', { name: 'action', 'aria-label': '建议' }, Object.entries(ACTIONS).map(([value, label]) => h('option', { value }, label)));
  const first = item.suggestions[0]?.action;
  if (first) select.value = first;
  const withPlans = h('input', { name: 'with_plan_ids', size: 24, value: item.merge_candidates.map((c) => c.plan_id).join(','), 'aria-label': '合并的计划' });
  const start = h('input', { name: 'window_start', type: 'date', value: change?.window?.start ?? '', 'aria-label': '变更后开始日期' });
  const end = h('input', { name: 'window_end', type: 'date', value: change?.window?.end ?? '', 'aria-label': '变更后结束日期' });
  const note = h('input', { name: 'note', size: 30, maxlength: 2000, placeholder: '说明（发给执法部门）', 'aria-label': '说明' });
  const button = h('button', { type: 'submit', class: 'primary' }, '发送建议');
  const form = h('form', { class: 'suggest', 'aria-label': `${item.plan_id} 的统筹建议` },
    select, h('label', {}, '合并计划 ', withPlans), h('label', {}, '变更为 ', start, ' 至 ', end), note, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = select.value;
    const body = { action, note: note.value };
    if (action === 'merge') body.with_plan_ids = withPlans.value.split(/[,，\s]+/).filter(Boolean);
    if (action === 'change') Object.assign(body, { window_start: start.value || undefined, window_end: end.value || undefined });
    button.disabled = true;
    try {
      await api.post(`/v1/plans/${encodeURIComponent(item.plan_id)}/suggestions`, body);
      announce(`已向执法部门发送「${ACTIONS[action]}」建议`);
      say('');
      await onSent();
    } catch (err) {
      say(err.message);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function planItem(item, recorded, onSent, say) {
  const mine = recorded.filter((s) => s.plan_id === item.plan_id);
  return h('article', { class: `plan-card verdict-${item.verdict}`, dataset: { plan: item.plan_id }, 'aria-labelledby': `plan-${item.plan_id}` },
    h('header', {},
      h('h3', { id: `plan-${item.plan_id}` }, `计划 ${item.plan_id}`),
      h('span', { class: 'muted' }, `${item.agency_name} · ${windowText(item)}`),
      h('span', { class: 'verdict tag' }, VERDICT[item.verdict] ?? item.verdict)),
    findingList(item.findings),
    sideBySide(item),
    item.suggestions.length > 0
      ? h('p', { class: 'small' }, '系统建议：', item.suggestions.map((s) => `${s.label}（${s.reason.zh}）`).join('；'))
      : null,
    mine.length > 0
      ? h('ul', { class: 'sent', 'aria-label': '已发送的建议' }, mine.map((s) => h('li', { dataset: { action: s.action } },
        `${ACTIONS[s.action] ?? s.action} · ${s.actor} · ${s.at.slice(0, 16).replace('T', ' ')}${s.note ? ` · ${s.note}` : ''}`)))
      : null,
    suggestionForm(item, onSent, say));
}

export function startCoordination({ root }) {
  const body = root.querySelector('#coordination-body');
  const notice = root.querySelector('#coordination-notice');
  const filters = root.querySelector('#coordination-filters');
  let token = 0;

  const say = errorLine(notice);

  async function refresh() {
    const mine = ++token;
    try {
      const region = new FormData(filters).get('region');
      const answer = await api.get(`/v1/plans/upcoming${query({ region })}`);
      if (mine !== token) return;
      const byCompany = new Map();
      for (const item of answer.items) {
        if (!byCompany.has(item.enterprise_id)) byCompany.set(item.enterprise_id, { name: item.name, items: [] });
        byCompany.get(item.enterprise_id).items.push(item);
      }
      if (byCompany.size === 0) {
        fill(body, h('p', { class: 'empty' }, '没有待执行的检查计划。'));
        return;
      }
      fill(body, [...byCompany].map(([id, company]) => h('section', { class: 'company-plans', dataset: { enterprise: id }, 'aria-label': company.name },
        h('h2', {}, company.name, ' ', h('span', { class: 'mono small muted' }, id)),
        company.items.map((item) => planItem(item, answer.suggestions, refresh, say)))));
    } catch (err) {
      if (mine !== token) return;
      say(err instanceof ApiError && err.status === 403 ? err.message : `计划加载失败：${err.message}`);
    }
  }

  filters.addEventListener('change', refresh);
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    refresh();
  });
  return { show: refresh };
}
