/**
 * 检查计划: the weekly review of plans (海曙 "以周為單位回看執行情況,確保任務銷號"), read from
 * GET /v1/plans/review. Per agency: its plan tasks (a plan at one company) whose window ends in the ISO week,
 * carried out, not carried out or cancelled, with the visit that carried each out. The week defaults to the
 * current one in Shanghai; the region to the token's jurisdiction.
 */
import { api, ApiError, query } from './api.js';
import { errorLine, fill, h } from './dom.js';
import { absolute } from './format.js';

const TASK_STATUS = { carried_out: '已执行', not_carried_out: '未执行', cancelled: '已撤销' };

/** The ISO week of a day in Shanghai, as <input type="week"> writes it: 2025-W33. */
export function isoWeek(now = Date.now()) {
  const shanghai = new Date(now + 8 * 3_600_000);
  const thursday = new Date(Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth(), shanghai.getUTCDate()));
  // The Thursday of the week decides its ISO year; week 1 is the week holding 4 January.
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const firstThursday = Date.UTC(year, 0, 4 + 3 - ((jan4.getUTCDay() + 6) % 7));
  const week = 1 + Math.round((thursday.getTime() - firstThursday) / 604_800_000);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function counts(agency) {
  const rate = agency.planned > 0 ? `${Math.round((agency.carried_out / agency.planned) * 100)}%` : '—';
  return h('p', { class: 'review-counts' },
    `计划 ${agency.planned} 项 · 已执行 ${agency.carried_out} · 未执行 ${agency.not_carried_out} · 已撤销 ${agency.cancelled} · 执行率 `,
    h('strong', {}, rate));
}

function taskRow(task) {
  return h('tr', { dataset: { status: task.status, plan: task.plan_id } },
    h('td', { class: 'mono small' }, task.plan_id),
    h('td', {}, task.enterprise_name ?? task.enterprise_id),
    h('td', {}, `${task.window_start} 至 ${task.window_end}`),
    h('td', {}, task.joint_agency_ids.length > 0 ? task.joint_agency_ids.join('、') : '—'),
    h('td', {}, h('span', { class: `tag task-${task.status}` }, TASK_STATUS[task.status] ?? task.status)),
    h('td', {}, task.visit ? absolute(task.visit.at) : '—'));
}

function agencyCard(agency) {
  return h('article', { class: 'review-agency', dataset: { agency: agency.agency_id } },
    h('header', {}, h('h3', {}, agency.name ?? agency.agency_id), h('span', { class: 'mono small muted' }, agency.agency_id)),
    counts(agency),
    h('table', { class: 'review-tasks' },
      h('thead', {}, h('tr', {}, ...['计划编号', '企业', '计划窗口', '联合部门', '执行情况', '入企时间'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, agency.tasks.map(taskRow))));
}

export function startPlans({ root }) {
  const form = root.querySelector('#review-form');
  const body = root.querySelector('#review-body');
  const notice = root.querySelector('#review-notice');
  form.elements.week.value ||= isoWeek();
  let token = 0;

  const say = errorLine(notice);

  async function refresh() {
    const mine = ++token;
    const params = { region: form.elements.region.value.trim(), week: form.elements.week.value };
    try {
      const review = await api.get(`/v1/plans/review${query(params)}`);
      if (mine !== token) return;
      fill(body,
        h('h2', { id: 'review-heading' }, `${review.week} 周执行回看（${review.from} 至 ${review.to}）`),
        review.agencies.length === 0
          ? h('p', { class: 'empty' }, '本周没有到期的检查计划。')
          : h('div', { class: 'review-agencies' }, review.agencies.map(agencyCard)));
      say('');
    } catch (err) {
      if (mine !== token) return;
      const named = err instanceof ApiError && err.body?.errors?.length ? err.body.errors.map((e) => `${e.field} ${e.message}`).join('；') : err.message;
      say(`周回看加载失败：${named}`);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh();
  });

  return { show: refresh };
}
