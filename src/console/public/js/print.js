/**
 * 打印: a 预警处置单 (the alert, its evidence and its handling history) or a
 * 工单 as one printable sheet. The sheet is drawn into #print-sheet, which only
 * print media show (console.css), and the browser's print dialog opens.
 */
import { facts, fill, h } from './dom.js';
import { absolute } from './format.js';
import * as L from './labels.js';
import { nameEl, namesEl } from './names.js';

const sheet = () => document.getElementById('print-sheet');

function printed(title, ...body) {
  fill(sheet(),
    h('h1', {}, title),
    ...body,
    h('p', { class: 'print-foot' }, `打印时间：${absolute(new Date())} · 清检 监测台`));
  // Only the sheet prints (console.css), until the dialog closes.
  document.body.classList.add('printing-sheet');
  addEventListener('afterprint', () => document.body.classList.remove('printing-sheet'), { once: true });
  // Names arrive asynchronously; give them a moment before the dialog freezes the page.
  setTimeout(() => window.print(), 300);
}

const table = (head, rows) => h('table', { class: 'print-table' },
  h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))),
  h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));

/** 预警处置单. */
export function printAlert(a) {
  printed('预警处置单',
    facts([
      ['预警编号', a.id],
      ['预警级别', L.severity(a.severity)],
      ['规则', a.title?.zh ?? a.rule_id],
      ['状态', L.status(a.status)],
      ['企业', nameEl('enterprise', a.enterprise_id)],
      ['执法部门', a.agency_id ? nameEl('agency', a.agency_id) : ''],
      ['地区', nameEl('region', a.region)],
      ['执法人员', (a.officer_ids ?? []).length ? namesEl('officer', a.officer_ids) : ''],
      ['发生时间', absolute(a.first_seen_at)],
      ['预警时间', absolute(a.raised_at)],
      ['预警内容', a.message?.zh ?? ''],
    ], 'facts print-facts'),
    h('h2', {}, '证据事件'),
    table(['类型', '作用', '发生时间', '执法部门'], (a.evidence_events ?? []).map(({ role, event }) => [
      L.eventType(event.type), L.role(role), absolute(event.occurred_at), event.agency_id ? nameEl('agency', event.agency_id) : '—',
    ])),
    h('h2', {}, '处理记录'),
    table(['时间', '操作', '经办人', '说明'], (a.history ?? []).map((c) => [absolute(c.at), L.action(c.action), L.person(c.actor), c.note ?? ''])),
    h('h2', {}, '处理意见'),
    h('div', { class: 'print-blank' }, a.resolution_note || ''),
    h('p', { class: 'print-sign' }, '经办人（签字）：＿＿＿＿＿＿　　　负责人（签字）：＿＿＿＿＿＿　　　日期：＿＿＿＿＿＿'));
}

/** 工单. */
export function printTicket(t, history = []) {
  printed('12345 工单',
    facts([
      ['工单编号', t.number || t.id],
      ['来电人', t.complainant ? `${t.complainant.name ? `${t.complainant.name} · ` : ''}${t.complainant.phone}` : ''],
      ['回访', t.callback ? `${L.satisfaction(t.callback.satisfaction)} · ${L.person(t.callback.by)} · ${absolute(t.callback.at)}` : '未回访'],
      ['优先级', L.priority(t.priority)],
      ['状态', L.ticketState(t.state)],
      ['标题', t.title?.zh ?? ''],
      ['企业', t.enterprise_id ? nameEl('enterprise', t.enterprise_id) : ''],
      ['执法部门', t.agency_id ? nameEl('agency', t.agency_id) : ''],
      ['地区', t.region ? nameEl('region', t.region) : ''],
      ['登记时间', absolute(t.created_at)],
      ['受理时限', absolute(t.accept_due_at)],
      ['办结时限', absolute(t.resolve_due_at)],
      ['办结', t.resolved_at ? `${L.outcome(t.outcome)} · ${absolute(t.resolved_at)}` : ''],
      ['内容', t.description ?? ''],
    ], 'facts print-facts'),
    h('h2', {}, '办理记录'),
    table(['时间', '操作', '经办人', '说明'], history.map((c) => [absolute(c.at ?? c.created_at), L.ticketAction(c.action ?? c.type), L.person(c.actor), c.note ?? ''])),
    h('p', { class: 'print-sign' }, '承办人（签字）：＿＿＿＿＿＿　　　审核人（签字）：＿＿＿＿＿＿　　　日期：＿＿＿＿＿＿'));
}
