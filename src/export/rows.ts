import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../alerts/model.js';
import { timestamp } from '../calendar/index.js';
import { CONSOLE_DIR } from '../console/routes.js';
import type { Ticket } from '../hotline/model.js';
import type { OfficerStore } from '../reference/officer-store.js';
import type { ReferenceStore } from '../reference/store.js';
import type { Table } from './table.js';
import {
  ALERT_STATUS_ZH, CATEGORY_ZH, OUTCOME_ZH, SATISFACTION_ZH, personZh, PRIORITY_ZH, RESOLUTION_ZH, SEVERITY_ZH, TICKET_SOURCE_ZH, TICKET_STATE_ZH, zh,
} from './wording.js';

/** The division names the console shows (GB/T 2260, its data file names the source). */
const DIVISIONS: Record<string, string> = JSON.parse(readFileSync(join(CONSOLE_DIR, 'divisions.json'), 'utf8')).names;

/** 德州市德城区 for 371402, as the console writes it; the code when the name is not known. */
export function regionName(code: string): string {
  if (code.length === 6 && !code.endsWith('00') && DIVISIONS[code]) return `${DIVISIONS[code.slice(0, 4)] ?? ''}${DIVISIONS[code]}`;
  return DIVISIONS[code] ?? code;
}

/** Shanghai wall clock, 2026-12-04 09:30:00; ClickHouse's "YYYY-MM-DD hh:mm:ss.sss" is UTC. */
export function shanghaiTime(value: string | null | undefined): string {
  if (!value) return '';
  const ms = Date.parse(/[TZ+]/.test(value.slice(10)) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? value : timestamp(ms).slice(0, 19).replace('T', ' ');
}

async function namesOf(reference: ReferenceStore, items: ReadonlyArray<{ enterprise_id: string; agency_id: string }>) {
  const [enterprises, agencies] = await Promise.all([
    reference.names('enterprise', items.map((i) => i.enterprise_id).filter(Boolean)),
    reference.names('agency', items.map((i) => i.agency_id).filter(Boolean)),
  ]);
  return { enterprise: (id: string) => enterprises.get(id) ?? '', agency: (id: string) => agencies.get(id) ?? '' };
}

export const ALERT_COLUMNS = [
  '预警编号', '预警级别', '规则', '规则编号', '状态', '企业', '统一社会信用代码', '执法部门', '部门编码', '地区', '区划代码',
  '执法人员', '执法人员编号', '发生时间', '最近发生', '预警时间', '次数', '预警内容', '签收人', '签收时间', '处理结论', '处理人', '处理时间', '处理说明',
] as const;

export async function alertTable(alerts: readonly Alert[], reference: ReferenceStore, officers: Pick<OfficerStore, 'names'>): Promise<Table> {
  const [name, officerNames] = await Promise.all([namesOf(reference, alerts), officers.names(alerts.flatMap((a) => a.officer_ids))]);
  // An officer without a record is shown by number, so the names column never drops anyone.
  const officersOf = (a: Alert) => a.officer_ids.map((id) => officerNames.get(id) ?? id).join('、');
  return {
    title: '预警清单',
    columns: ALERT_COLUMNS,
    rows: alerts.map((a) => [
      a.id, zh(SEVERITY_ZH, a.severity), a.title.zh, a.rule_id, zh(ALERT_STATUS_ZH, a.status),
      name.enterprise(a.enterprise_id), a.enterprise_id, name.agency(a.agency_id), a.agency_id, regionName(a.region), a.region,
      officersOf(a), a.officer_ids.join('、'), shanghaiTime(a.first_seen_at), shanghaiTime(a.last_seen_at), shanghaiTime(a.raised_at), a.count, a.message.zh,
      a.acknowledged_by ? personZh(a.acknowledged_by) : '', shanghaiTime(a.acknowledged_at),
      a.resolution ? zh(RESOLUTION_ZH, a.resolution) : '', a.resolved_by ? personZh(a.resolved_by) : '', shanghaiTime(a.resolved_at), a.resolution_note,
    ]),
  };
}

export const TICKET_COLUMNS = [
  '工单编号', '内部编号', '优先级', '状态', '来源', '标题', '分类', '企业', '统一社会信用代码', '执法部门', '部门编码', '地区', '区划代码',
  '登记时间', '受理时限', '受理时间', '办结时限', '办结时间', '回访满意度', '办结结果', '办结说明', '认领人', '转办给', '来电人', '联系电话', '内容',
] as const;

export async function ticketTable(tickets: readonly Ticket[], reference: ReferenceStore): Promise<Table> {
  const name = await namesOf(reference, tickets);
  return {
    title: '工单清单',
    columns: TICKET_COLUMNS,
    rows: tickets.map((t) => [
      t.number, t.id, zh(PRIORITY_ZH, t.priority), zh(TICKET_STATE_ZH, t.state), zh(TICKET_SOURCE_ZH, t.source), t.title.zh, zh(CATEGORY_ZH, t.category),
      name.enterprise(t.enterprise_id), t.enterprise_id, name.agency(t.agency_id), t.agency_id, regionName(t.region), t.region,
      shanghaiTime(t.created_at), shanghaiTime(t.accept_due_at), shanghaiTime(t.accepted_at), shanghaiTime(t.resolve_due_at),
      shanghaiTime(t.resolved_at), t.callback ? zh(SATISFACTION_ZH, t.callback.satisfaction) : '', t.outcome ? zh(OUTCOME_ZH, t.outcome) : '', t.resolution_note, t.claimed_by ? personZh(t.claimed_by) : '',
      t.assignee ? (t.assignee.kind === 'agency' ? name.agency(t.assignee.id) || t.assignee.id : t.assignee.id) : '', t.complainant?.name ?? '', t.complainant?.phone ?? '', t.description,
    ]),
  };
}
