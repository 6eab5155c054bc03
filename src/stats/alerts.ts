import { column, type StatDefinition } from './definition.js';
import { AGENCY_NAMES, COMPANY_NAMES, agencyIs, nameOr, regionIs, standing, type Dialect } from './sql.js';

/** Standing alerts of the chosen range, by their latest evidence. */
const breaches = (d: Dialect, alias = '') => `${standing(alias)}
  AND ${d.during(`${alias}last_seen_at`)}
  AND ${regionIs(d, `${alias}region`)}
  AND ${agencyIs(d, `${alias}agency_id`)}`;

/** Answered: acknowledged or resolved by a person; alerts' changes give the time from raising to that. */
const ANSWER_TIMES = `(
    SELECT alert_id, any(rule_id) AS rule_id, any(region) AS region, any(agency_id) AS agency_id,
           minIf(at, action = 'raised') AS raised_at,
           minIf(at, action IN ('acknowledged', 'resolved') AND actor != 'system') AS answered_at,
           (toUnixTimestamp64Milli(answered_at) - toUnixTimestamp64Milli(raised_at)) / 1000 AS seconds
    FROM alert_changes FINAL
    GROUP BY alert_id
    HAVING countIf(action = 'raised') > 0 AND countIf(action IN ('acknowledged', 'resolved') AND actor != 'system') > 0
  )`;

const LOW_QUALITY_RULES = "('deregistered-company', 'joint-not-together')";

/** Breaches of the rules and how alerts about them were handled. */
export const ALERT_STATS: StatDefinition[] = [
  {
    name: 'breaches-by-rule',
    title: { zh: '违规（按规则）', en: 'Breaches by rule' },
    description: '时间范围内仍成立的预警（规则已生效，未撤销，未判定为误报或数据错误），按最近一次违规时间。Alerts that stand, by latest evidence.',
    columns: [
      column('rule_id', 'code', '规则', 'rule'),
      column('breaches', 'count', '违规', 'breaches'),
    ],
    sql: (d) => `SELECT rule_id, count() AS breaches
FROM alerts FINAL
WHERE ${breaches(d)}
GROUP BY rule_id
ORDER BY breaches DESC, rule_id`,
  },
  {
    name: 'breaches-by-region',
    title: { zh: '违规（按企业所在区县）', en: 'Breaches by district' },
    description: '仍成立的预警按企业所在区县统计。Standing alerts by the company\'s district.',
    columns: [
      column('region', 'code', '区县', 'district'),
      column('breaches', 'count', '违规', 'breaches'),
    ],
    sql: (d) => `SELECT region, count() AS breaches
FROM alerts FINAL
WHERE ${breaches(d)}
GROUP BY region
ORDER BY breaches DESC, region`,
  },
  {
    name: 'breaches-by-agency',
    title: { zh: '违规（按部门）', en: 'Breaches by agency' },
    description: '仍成立的预警按执法部门统计。Standing alerts by agency.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('breaches', 'count', '违规', 'breaches'),
    ],
    sql: (d) => `SELECT al.agency_id AS agency_id, ${nameOr('a.name', 'al.agency_id')} AS agency, count() AS breaches
FROM alerts AS al FINAL
GLOBAL LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = al.agency_id
WHERE ${breaches(d, 'al.')}
GROUP BY agency_id, agency
ORDER BY breaches DESC, agency_id`,
  },
  {
    name: 'breaches-per-day',
    title: { zh: '每日违规', en: 'Breaches per day' },
    description: '仍成立的预警按最近一次违规日（上海时间）和规则统计。Standing alerts per Shanghai day of latest evidence and rule.',
    columns: [
      column('time', 'time', '日期', 'day'),
      column('rule', 'code', '规则', 'rule'),
      column('breaches', 'count', '违规', 'breaches'),
    ],
    sql: (d) => `SELECT toStartOfDay(last_seen_at, 'Asia/Shanghai') AS time, rule_id AS rule, count() AS breaches
FROM alerts FINAL
WHERE ${breaches(d)}
GROUP BY time, rule
ORDER BY time, rule`,
  },
  {
    name: 'breach-list',
    title: { zh: '违规明细', en: 'Breach list' },
    description: '最近的100条仍成立的预警。The latest 100 standing alerts.',
    columns: [
      column('last_seen_at', 'time', '最近违规', 'last seen'),
      column('rule_id', 'code', '规则', 'rule'),
      column('title', 'text', '违规', 'breach'),
      column('enterprise_id', 'code', '统一社会信用代码', 'credit code'),
      column('company', 'text', '企业', 'company'),
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('count', 'count', '次数', 'count'),
      column('status', 'code', '处置状态', 'status'),
    ],
    sql: (d) => `SELECT al.last_seen_at AS last_seen_at, al.rule_id AS rule_id, al.title_zh AS title,
       al.enterprise_id AS enterprise_id, ${nameOr('e.name', 'al.enterprise_id')} AS company,
       al.agency_id AS agency_id, ${nameOr('a.name', 'al.agency_id')} AS agency,
       al.count AS count, al.status AS status
FROM alerts AS al FINAL
GLOBAL LEFT JOIN ${COMPANY_NAMES} AS e ON e.enterprise_id = al.enterprise_id
GLOBAL LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = al.agency_id
WHERE ${breaches(d, 'al.')}
ORDER BY al.last_seen_at DESC, al.id
LIMIT 100`,
  },
  {
    name: 'time-to-acknowledge-by-rule',
    title: { zh: '确认用时（按规则）', en: 'Time to acknowledge by rule' },
    description: '从预警产生到首次由人确认或办结的用时（秒），按产生时间。Seconds from raising to the first acknowledgement or resolution by a person.',
    columns: [
      column('rule_id', 'code', '规则', 'rule'),
      column('answered', 'count', '已确认', 'answered'),
      column('p50_seconds', 'seconds', '中位数', 'p50'),
      column('p90_seconds', 'seconds', '90分位', 'p90'),
    ],
    sql: (d) => `SELECT rule_id, count() AS answered,
       quantile(0.5)(seconds) AS p50_seconds,
       quantile(0.9)(seconds) AS p90_seconds
FROM ${ANSWER_TIMES}
WHERE ${d.during('raised_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY rule_id
ORDER BY rule_id`,
  },
  {
    name: 'false-positive-share-by-rule',
    title: { zh: '误报率（按规则）', en: 'False-positive share by rule' },
    description: '已办结预警中判定为误报的比例，按首次证据时间。False positives among resolved alerts, by first evidence.',
    columns: [
      column('rule_id', 'code', '规则', 'rule'),
      column('resolved', 'count', '已办结', 'resolved'),
      column('false_positives', 'count', '误报', 'false positives'),
      column('false_positive_share', 'share', '误报率', 'false-positive share'),
    ],
    sql: (d) => `SELECT rule_id, countIf(status = 'resolved') AS resolved,
       countIf(resolution = 'false_positive') AS false_positives,
       countIf(resolution = 'false_positive') / countIf(status = 'resolved') AS false_positive_share
FROM alerts FINAL
WHERE mode = 'active' AND resolution != 'cleared'
  AND ${d.during('first_seen_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY rule_id
HAVING resolved > 0
ORDER BY false_positive_share DESC, rule_id`,
  },
  {
    name: 'low-quality-by-agency-month',
    title: { zh: '低质量检查（按部门和月份）', en: 'Low-quality checks by agency and month' },
    description: '宁波海曙的低质量检查：检查已注销企业（deregistered-company）与联合检查未同时上门（joint-not-together）的仍成立预警，与该部门当月现场检查记录对比（按事件时间）。Standing alerts of the two low-quality rules beside the agency\'s on-site records of the month.',
    columns: [
      column('month', 'code', '月份', 'month'),
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
      column('deregistered', 'count', '检查已注销企业', 'deregistered company'),
      column('joint_not_together', 'count', '联合检查未同时上门', 'joint not together'),
      column('low_quality', 'count', '低质量检查', 'low-quality'),
      column('low_quality_share', 'share', '低质量占比', 'low-quality share'),
    ],
    sql: (d) => `SELECT x.month AS month, x.agency_id AS agency_id, ${nameOr('a.name', 'x.agency_id')} AS agency,
       sum(x.inspection) AS onsite_inspections,
       sum(x.deregistered) AS deregistered,
       sum(x.not_together) AS joint_not_together,
       sum(x.deregistered) + sum(x.not_together) AS low_quality,
       (sum(x.deregistered) + sum(x.not_together)) / nullIf(sum(x.inspection), 0) AS low_quality_share
FROM (
  SELECT formatDateTime(assumeNotNull(started_at), '%Y-%m', 'Asia/Shanghai') AS month, agency_id,
         toUInt64(1) AS inspection, toUInt64(0) AS deregistered, toUInt64(0) AS not_together
  FROM events FINAL
  WHERE type = 'inspection' AND onsite AND ${d.during('started_at')} AND ${regionIs(d)} AND ${agencyIs(d)}
  UNION ALL
  SELECT formatDateTime(anchor_at, '%Y-%m', 'Asia/Shanghai'), agency_id,
         toUInt64(0), toUInt64(rule_id = 'deregistered-company'), toUInt64(rule_id = 'joint-not-together')
  FROM alerts FINAL
  WHERE rule_id IN ${LOW_QUALITY_RULES} AND ${standing()} AND ${d.during('anchor_at')} AND ${regionIs(d)} AND ${agencyIs(d)}
) AS x
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = x.agency_id
GROUP BY month, agency_id, agency
ORDER BY month, agency_id`,
  },
];
