import { column, type StatDefinition } from './definition.js';
import { agencyIs, regionIs } from './sql.js';

/** A category with its name (the console's words), the code after it; a rule id as category stays as it is. */
const CATEGORY_LABEL = `transform(category,
    ['no_scan', 'frequent', 'no_plan', 'quiet_period', 'misconduct', 'other'],
    ['未亮码入企 no_scan', '检查过频 frequent', '未报备计划 no_plan', '安静期入企 quiet_period', '执法不当 misconduct', '其他 other'],
    category)`;

const ACCEPTED_IN_TIME = 'countIf(accepted_at IS NOT NULL AND accepted_at <= accept_due_at) / nullIf(countIf(accepted_at IS NOT NULL OR accept_due_at <= now64(3)), 0)';
const RESOLVED_IN_TIME = 'countIf(resolved_at IS NOT NULL AND resolved_at <= resolve_due_at) / nullIf(countIf(resolved_at IS NOT NULL OR resolve_due_at <= now64(3)), 0)';

/** 12345 tickets about inspections, by creation time. */
export const HOTLINE_STATS: StatDefinition[] = [
  {
    name: 'tickets-by-category-state',
    title: { zh: '工单（按类别与状态）', en: 'Tickets by category and state' },
    description: '时间范围内新建的12345工单，按类别和当前状态。Tickets opened in the range by category and current state.',
    columns: [
      column('category', 'code', '类别编码', 'category'),
      column('category_label', 'text', '类别', 'category name'),
      column('tickets', 'count', '工单', 'tickets'),
      column('new', 'count', '待受理', 'new'),
      column('claimed', 'count', '已认领', 'claimed'),
      column('assigned', 'count', '已转办', 'assigned'),
      column('resolved', 'count', '已办结', 'resolved'),
    ],
    sql: (d) => `SELECT category, ${CATEGORY_LABEL} AS category_label, count() AS tickets,
       countIf(state = 'new') AS new,
       countIf(state = 'claimed') AS claimed,
       countIf(state = 'assigned') AS assigned,
       countIf(state = 'resolved') AS resolved
FROM tickets FINAL
WHERE ${d.during('created_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY category, category_label
ORDER BY tickets DESC, category`,
  },
  {
    name: 'hotline-sla-by-category',
    title: { zh: 'SLA 达标（按类别）', en: 'SLA compliance by category' },
    description: '受理及时率 = 在受理时限前认领的工单占已认领或已超时工单的比例；办结及时率同理。时限按工作时间计。Accepted (resolved) before the deadline among tickets accepted (resolved) or past the deadline.',
    columns: [
      column('category', 'code', '类别编码', 'category'),
      column('category_label', 'text', '类别', 'category name'),
      column('tickets', 'count', '工单', 'tickets'),
      column('accepted_in_time', 'share', '受理及时率', 'accepted in time'),
      column('resolved_in_time', 'share', '办结及时率', 'resolved in time'),
      column('accept_breaches', 'count', '受理超时', 'accept breaches'),
      column('resolve_breaches', 'count', '办结超时', 'resolve breaches'),
    ],
    sql: (d) => `SELECT category, ${CATEGORY_LABEL} AS category_label, count() AS tickets,
       ${ACCEPTED_IN_TIME} AS accepted_in_time,
       ${RESOLVED_IN_TIME} AS resolved_in_time,
       countIf(has(sla_breaches, 'accept')) AS accept_breaches,
       countIf(has(sla_breaches, 'resolve')) AS resolve_breaches
FROM tickets FINAL
WHERE ${d.during('created_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY category, category_label
ORDER BY tickets DESC, category`,
  },
];
