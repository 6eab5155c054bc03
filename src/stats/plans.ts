import { column, type StatDefinition } from './definition.js';
import { AGENCY_NAMES, PLAN_TASKS, PLANS, agencyIs, isoWeek, nameOr, plansWithLead, regionIs, standing } from './sql.js';

const FILED_AHEAD = 'lead_days >= required_days';

/** Plans: filed far enough ahead, carried out, merged. */
export const PLAN_STATS: StatDefinition[] = [
  {
    name: 'filing-ahead',
    title: { zh: '按时报备率', en: 'Plans filed in time' },
    description: '按报备时间统计的检查计划中，提前天数达到所在地区规则要求（无计划检查规则的 lead_days，如烟台7天、海曙当日）的比例。Plans filed at least as many days ahead as their region\'s no-plan rule asks.',
    columns: [
      column('plans', 'count', '计划', 'plans'),
      column('filed_ahead', 'count', '按时报备', 'filed in time'),
      column('filed_ahead_share', 'share', '按时报备率', 'share filed in time'),
    ],
    sql: (d, context) => `SELECT count() AS plans, countIf(${FILED_AHEAD}) AS filed_ahead, countIf(${FILED_AHEAD}) / nullIf(count(), 0) AS filed_ahead_share
FROM ${plansWithLead(context)}
WHERE ${d.during('filed_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}`,
  },
  {
    name: 'filing-lead-days',
    title: { zh: '报备提前天数', en: 'Filing lead time' },
    description: '检查计划从首次报备到检查窗口开始的天数分布。Days from a plan\'s first filing to its window\'s start.',
    columns: [
      column('lead_time', 'text', '提前天数', 'lead time'),
      column('plans', 'count', '计划', 'plans'),
    ],
    sql: (d, context) => `SELECT multiIf(lead_days < 0, '事后补报 after', lead_days >= 30, '30+', toString(lead_days)) AS lead_time,
       count() AS plans
FROM ${plansWithLead(context)}
WHERE ${d.during('filed_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY lead_time
ORDER BY min(lead_days)`,
  },
  {
    name: 'filing-ahead-by-week',
    title: { zh: '按时报备率（按周）', en: 'Plans filed in time, weekly' },
    description: '按报备周统计的按时报备率。The share filed in time per week of filing.',
    columns: [
      column('time', 'time', '周', 'week'),
      column('filed_ahead_share', 'share', '按时报备率', 'share filed in time'),
    ],
    sql: (d, context) => `SELECT toDateTime(toMonday(filed_at, 'Asia/Shanghai'), 'Asia/Shanghai') AS time,
       countIf(${FILED_AHEAD}) / count() AS filed_ahead_share
FROM ${plansWithLead(context)}
WHERE ${d.during('filed_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY time
ORDER BY time`,
  },
  {
    name: 'filing-by-agency',
    title: { zh: '各部门报备情况', en: 'Filing by agency' },
    description: '各部门的计划数、提前天数中位数和按时报备率。Plans, median lead time and the share filed in time per agency.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('plans', 'count', '计划', 'plans'),
      column('median_lead_days', 'days', '提前天数中位数', 'median lead (d)'),
      column('filed_ahead_share', 'share', '按时报备率', 'share filed in time'),
      column('filed_late', 'count', '未按时', 'late'),
    ],
    sql: (d, context) => `SELECT p.agency_id AS agency_id, ${nameOr('a.name', 'p.agency_id')} AS agency,
       count() AS plans,
       median(p.lead_days) AS median_lead_days,
       countIf(p.${FILED_AHEAD}) / count() AS filed_ahead_share,
       countIf(NOT (p.${FILED_AHEAD})) AS filed_late
FROM ${plansWithLead(context)} AS p
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = p.agency_id
WHERE ${d.during('p.filed_at')}
  AND ${regionIs(d, 'p.region')}
  AND ${agencyIs(d, 'p.agency_id')}
GROUP BY agency_id, agency
ORDER BY filed_late DESC, agency_id`,
  },
  {
    name: 'plan-execution-by-week',
    title: { zh: '计划执行（按部门和周）', en: 'Plans carried out by agency and week' },
    description: '“年计划、月安排、周执行”：按检查窗口结束所在的ISO周，各部门的计划任务（一项计划在一家企业）中已执行（计划窗口内该部门或联合部门在该企业有现场扫码或检查记录，且未指向其他计划）、未执行与已撤销的数量。Plan tasks by the ISO week their window closes: carried out, not carried out, cancelled.',
    columns: [
      column('week', 'code', '周', 'ISO week'),
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('planned', 'count', '计划任务', 'planned'),
      column('carried_out', 'count', '已执行', 'carried out'),
      column('not_carried_out', 'count', '未执行', 'not carried out'),
      column('cancelled', 'count', '已撤销', 'cancelled'),
      column('execution_rate', 'share', '执行率', 'carried out / planned'),
    ],
    sql: (d) => `SELECT ${isoWeek('p.window_end')} AS week, p.agency_id AS agency_id, ${nameOr('a.name', 'p.agency_id')} AS agency,
       countIf(p.status != 'cancelled') AS planned,
       countIf(p.status != 'cancelled' AND p.carried_out) AS carried_out,
       countIf(p.status != 'cancelled' AND NOT p.carried_out) AS not_carried_out,
       countIf(p.status = 'cancelled') AS cancelled,
       countIf(p.status != 'cancelled' AND p.carried_out) / nullIf(countIf(p.status != 'cancelled'), 0) AS execution_rate
FROM (SELECT *, toDateTime(window_end, 'Asia/Shanghai') AS closes_at FROM ${PLAN_TASKS}) AS p
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = p.agency_id
WHERE ${d.during('p.closes_at')}
  AND ${regionIs(d, 'p.region')}
  AND ${agencyIs(d, 'p.agency_id')}
GROUP BY week, agency_id, agency
ORDER BY week, agency_id`,
  },
  {
    name: 'plan-merging-by-agency',
    title: { zh: '计划统筹：重叠与合并（按部门）', en: 'Plan overlaps and merged plans by agency' },
    description: '“應并盡并”：窗口在时间范围内开始的计划中联合（合并）计划的数量，以及同一企业计划重叠的预警（plan-overlap，未撤销、未判定误报）。Joint (merged) plans among plans opening in the range, and standing plan-overlap findings.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('plans', 'count', '计划', 'plans'),
      column('joint_plans', 'count', '联合计划', 'joint plans'),
      column('joint_plan_share', 'share', '联合计划占比', 'joint share'),
      column('overlap_findings', 'count', '计划重叠', 'overlap findings'),
    ],
    sql: (d) => `SELECT x.agency_id AS agency_id, ${nameOr('a.name', 'x.agency_id')} AS agency,
       sum(x.plan) AS plans, sum(x.joint) AS joint_plans, sum(x.joint) / nullIf(sum(x.plan), 0) AS joint_plan_share,
       sum(x.overlap) AS overlap_findings
FROM (
  SELECT agency_id, toUInt64(1) AS plan, toUInt64(notEmpty(joint_agency_ids)) AS joint, toUInt64(0) AS overlap
  FROM (SELECT agency_id, joint_agency_ids, region, status, toDateTime(window_start, 'Asia/Shanghai') AS opens_at FROM ${PLANS})
  WHERE status != 'cancelled' AND ${d.during('opens_at')} AND ${regionIs(d)} AND ${agencyIs(d)}
  UNION ALL
  SELECT agency_id, toUInt64(0), toUInt64(0), toUInt64(1)
  FROM alerts FINAL
  WHERE rule_id = 'plan-overlap' AND ${standing()} AND ${d.during('anchor_at')} AND ${regionIs(d)} AND ${agencyIs(d)}
) AS x
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = x.agency_id
GROUP BY agency_id, agency
ORDER BY agency_id`,
  },
];
