import { column, type StatDefinition } from './definition.js';
import { AGENCY_NAMES, COMPANY_NAMES, VISITS, agencyIs, foundProblem, inspectionsWithPlan, nameOr, regionIs } from './sql.js';

/** Inspections: how many, how (on site or not), jointly or not, and whom they visit. */
export const INSPECTION_STATS: StatDefinition[] = [
  {
    name: 'inspections',
    title: { zh: '检查次数', en: 'Inspections' },
    description: '时间范围内的检查记录（现场与非现场），按检查开始时间。Inspection records by start time.',
    columns: [
      column('inspections', 'count', '检查', 'inspections'),
      column('onsite_inspections', 'count', '现场', 'on-site'),
      column('offsite_inspections', 'count', '非现场', 'off-site'),
      column('offsite_share', 'share', '非现场占比', 'off-site share'),
    ],
    sql: (d) => `SELECT count() AS inspections, countIf(onsite) AS onsite_inspections, countIf(NOT onsite) AS offsite_inspections,
       countIf(NOT onsite) / nullIf(count(), 0) AS offsite_share
FROM events FINAL
WHERE type = 'inspection'
  AND ${d.during('started_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}`,
  },
  {
    name: 'inspections-by-day-agency',
    title: { zh: '每日检查（按部门）', en: 'Inspections per day by agency' },
    description: '按检查开始日（上海时间）和执法部门统计的检查记录。Inspection records per Shanghai day and agency.',
    columns: [
      column('time', 'time', '日期', 'day'),
      column('agency', 'text', '部门', 'agency'),
      column('inspections', 'count', '检查', 'inspections'),
    ],
    sql: (d) => `SELECT toStartOfDay(assumeNotNull(i.started_at), 'Asia/Shanghai') AS time,
       ${nameOr('a.name', 'i.agency_id')} AS agency,
       count() AS inspections
FROM events AS i FINAL
GLOBAL LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = i.agency_id
WHERE i.type = 'inspection'
  AND ${d.during('i.started_at')}
  AND ${regionIs(d, 'i.region')}
  AND ${agencyIs(d, 'i.agency_id')}
GROUP BY time, agency
ORDER BY time, agency`,
  },
  {
    name: 'inspections-by-day-district',
    title: { zh: '每日检查（按企业所在区县）', en: 'Inspections per day by district' },
    description: '按检查开始日和企业所在区县（参考数据）统计的检查记录。Inspection records per Shanghai day and the company\'s district.',
    columns: [
      column('time', 'time', '日期', 'day'),
      column('district', 'code', '区县', 'district'),
      column('inspections', 'count', '检查', 'inspections'),
    ],
    sql: (d) => `SELECT toStartOfDay(assumeNotNull(i.started_at), 'Asia/Shanghai') AS time,
       ${nameOr('e.region', 'i.region')} AS district,
       count() AS inspections
FROM events AS i FINAL
GLOBAL LEFT JOIN (SELECT enterprise_id, region FROM enterprises FINAL) AS e ON e.enterprise_id = i.enterprise_id
WHERE i.type = 'inspection'
  AND ${d.during('i.started_at')}
  AND ${regionIs(d, 'i.region')}
  AND ${agencyIs(d, 'i.agency_id')}
GROUP BY time, district
ORDER BY time, district`,
  },
  {
    name: 'inspections-by-mode',
    title: { zh: '现场与非现场', en: 'On-site vs off-site' },
    description: '现场与非现场检查记录的数量。Inspection records on site and off site.',
    columns: [
      column('mode', 'text', '方式', 'mode'),
      column('inspections', 'count', '检查', 'inspections'),
    ],
    sql: (d) => `SELECT if(onsite, '现场 on-site', '非现场 off-site') AS mode, count() AS inspections
FROM events FINAL
WHERE type = 'inspection'
  AND ${d.during('started_at')}
  AND ${regionIs(d)}
  AND ${agencyIs(d)}
GROUP BY mode
ORDER BY mode`,
  },
  {
    name: 'joint-rate',
    title: { zh: '联合检查率', en: 'Joint inspection rate' },
    description: '现场检查中属于联合检查计划（有协同部门）的比例；部门筛选含作为协同部门参与的检查。On-site inspections under a joint plan; the agency filter includes joint participation.',
    columns: [
      column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
      column('joint_inspections', 'count', '联合检查', 'joint inspections'),
      column('joint_rate', 'share', '联合检查率', 'joint rate'),
    ],
    sql: (d) => `SELECT count() AS onsite_inspections, countIf(joint) AS joint_inspections, countIf(joint) / nullIf(count(), 0) AS joint_rate
FROM ${inspectionsWithPlan(d)}
WHERE onsite AND (${agencyIs(d)} OR has(joint_agency_ids, ${d.agency}))`,
  },
  {
    name: 'joint-rate-by-agency',
    title: { zh: '联合检查率（按牵头部门）', en: 'Joint inspection rate by lead agency' },
    description: '各牵头部门的现场检查中联合检查的比例。Share of each lead agency\'s on-site inspections made under a joint plan.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
      column('joint_inspections', 'count', '联合检查', 'joint inspections'),
      column('joint_rate', 'share', '联合检查率', 'joint rate'),
    ],
    sql: (d) => `SELECT i.agency_id AS agency_id, ${nameOr('a.name', 'i.agency_id')} AS agency,
       count() AS onsite_inspections, countIf(i.joint) AS joint_inspections, countIf(i.joint) / count() AS joint_rate
FROM ${inspectionsWithPlan(d)} AS i
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = i.agency_id
WHERE i.onsite AND (${agencyIs(d, 'i.agency_id')} OR has(i.joint_agency_ids, ${d.agency}))
GROUP BY agency_id, agency
ORDER BY joint_rate DESC, agency_id`,
  },
  {
    name: 'joint-and-detection-by-agency',
    title: { zh: '联合实施率与问题检出率（按部门）', en: 'Joint rate and problem-detection rate by agency' },
    description: '宁波海曙通报的两项指标：联合实施率 = 现场检查中联合检查的比例；问题检出率 = 有结论的检查记录中发现问题（结论不是“未发现问题”）的比例。The joint rate among on-site records, and the share of records with an outcome that found a problem.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('inspections', 'count', '检查', 'inspections'),
      column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
      column('joint_inspections', 'count', '联合检查', 'joint inspections'),
      column('joint_rate', 'share', '联合实施率', 'joint rate'),
      column('with_outcome', 'count', '有结论', 'with an outcome'),
      column('problems_found', 'count', '发现问题', 'problems found'),
      column('detection_rate', 'share', '问题检出率', 'detection rate'),
    ],
    sql: (d) => `SELECT i.agency_id AS agency_id, ${nameOr('a.name', 'i.agency_id')} AS agency,
       count() AS inspections,
       countIf(i.onsite) AS onsite_inspections,
       countIf(i.onsite AND i.joint) AS joint_inspections,
       countIf(i.onsite AND i.joint) / nullIf(countIf(i.onsite), 0) AS joint_rate,
       countIf(i.outcome != '') AS with_outcome,
       countIf(${foundProblem('i.outcome')}) AS problems_found,
       countIf(${foundProblem('i.outcome')}) / nullIf(countIf(i.outcome != ''), 0) AS detection_rate
FROM ${inspectionsWithPlan(d)} AS i
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = i.agency_id
WHERE ${agencyIs(d, 'i.agency_id')}
GROUP BY agency_id, agency
ORDER BY agency_id`,
  },
  {
    name: 'visits-distribution',
    title: { zh: '企业入企次数分布', en: 'Companies by visits received' },
    description: '所选地区的企业按时间范围内受到的入企次数分组（含未受检企业）。一次入企 = 一个部门在一个自然日到一家企业。Companies of the region by visits received, the never-visited included.',
    columns: [
      column('visits', 'count', '入企次数', 'visits received'),
      column('companies', 'count', '企业', 'companies'),
    ],
    sql: (d) => `SELECT toString(v.visits) AS visits, count() AS companies
FROM (SELECT enterprise_id FROM enterprises FINAL WHERE ${regionIs(d)}) AS e
LEFT JOIN (
  SELECT enterprise_id, uniqExact(agency_id, day) AS visits
  FROM ${VISITS}
  WHERE ${d.during('at')} AND ${agencyIs(d)}
  GROUP BY enterprise_id
) AS v ON v.enterprise_id = e.enterprise_id
GROUP BY v.visits
ORDER BY v.visits`,
  },
  {
    name: 'most-visited',
    title: { zh: '入企最多的企业', en: 'Most-visited companies' },
    description: '时间范围内入企次数最多的20家企业。The 20 companies visited most.',
    columns: [
      column('enterprise_id', 'code', '统一社会信用代码', 'credit code'),
      column('company', 'text', '企业', 'company'),
      column('credit_grade', 'code', '信用等级', 'grade'),
      column('visits', 'count', '入企次数', 'visits'),
      column('agencies', 'count', '部门数', 'agencies'),
      column('last_visit', 'time', '最近入企', 'last visit'),
    ],
    sql: (d) => `SELECT v.enterprise_id AS enterprise_id,
       ${nameOr('e.name', 'v.enterprise_id')} AS company,
       e.credit_grade AS credit_grade,
       v.visits AS visits,
       v.agencies AS agencies,
       v.last_visit AS last_visit
FROM (
  SELECT enterprise_id, uniqExact(agency_id, day) AS visits, uniqExact(agency_id) AS agencies, max(at) AS last_visit
  FROM ${VISITS}
  WHERE ${d.during('at')} AND ${regionIs(d)} AND ${agencyIs(d)}
  GROUP BY enterprise_id
) AS v
LEFT JOIN ${COMPANY_NAMES} AS e ON e.enterprise_id = v.enterprise_id
ORDER BY v.visits DESC, v.last_visit DESC, v.enterprise_id
LIMIT 20`,
  },
  {
    name: 'inspections-by-grade',
    title: { zh: '户均检查次数（按信用等级）', en: 'Inspections per company by credit grade' },
    description: '所选地区各信用等级企业的户均现场与非现场检查。Inspections per company of each credit grade.',
    columns: [
      column('grade', 'code', '信用等级', 'grade'),
      column('onsite_per_company', 'number', '现场', 'on-site'),
      column('offsite_per_company', 'number', '非现场', 'off-site'),
    ],
    sql: (d) => `SELECT e.credit_grade AS grade,
       sum(v.onsite_n) / count() AS onsite_per_company,
       sum(v.offsite_n) / count() AS offsite_per_company
FROM (SELECT enterprise_id, credit_grade FROM enterprises FINAL WHERE ${regionIs(d)}) AS e
LEFT JOIN (
  SELECT enterprise_id, countIf(onsite) AS onsite_n, countIf(NOT onsite) AS offsite_n
  FROM events FINAL
  WHERE type = 'inspection' AND ${d.during('started_at')} AND ${agencyIs(d)}
  GROUP BY enterprise_id
) AS v ON v.enterprise_id = e.enterprise_id
GROUP BY grade
ORDER BY grade`,
  },
  {
    name: 'grade-coverage',
    title: { zh: '信用等级与受检情况', en: 'Companies by credit grade vs inspections received' },
    description: '各信用等级的企业数、受检企业与现场检查次数。Companies per grade, how many were inspected on site and how often.',
    columns: [
      column('grade', 'code', '信用等级', 'grade'),
      column('companies', 'count', '企业', 'companies'),
      column('inspected', 'count', '受检企业', 'inspected'),
      column('inspected_share', 'share', '受检比例', 'inspected share'),
      column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
      column('per_company', 'number', '户均', 'per company'),
      column('most_at_one', 'count', '单户最多', 'most at one company'),
    ],
    sql: (d) => `SELECT e.credit_grade AS grade,
       count() AS companies,
       countIf(v.inspections > 0) AS inspected,
       countIf(v.inspections > 0) / count() AS inspected_share,
       sum(v.inspections) AS onsite_inspections,
       sum(v.inspections) / count() AS per_company,
       max(v.inspections) AS most_at_one
FROM (SELECT enterprise_id, credit_grade FROM enterprises FINAL WHERE ${regionIs(d)}) AS e
LEFT JOIN (
  SELECT enterprise_id, count() AS inspections
  FROM events FINAL
  WHERE type = 'inspection' AND onsite AND ${d.during('started_at')} AND ${agencyIs(d)}
  GROUP BY enterprise_id
) AS v ON v.enterprise_id = e.enterprise_id
GROUP BY grade
ORDER BY grade`,
  },
  {
    name: 'green-channel-by-agency',
    title: { zh: '紧急入企占比（按部门）', en: 'Urgent (green-channel) entries by agency' },
    description: '入企扫码中走绿色通道（紧急入企，事后核查）的比例。Share of entry check-ins made through the green channel.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      column('entries', 'count', '入企扫码', 'entries'),
      column('urgent', 'count', '紧急入企', 'urgent'),
      column('urgent_share', 'share', '紧急占比', 'urgent share'),
    ],
    sql: (d) => `SELECT e.agency_id AS agency_id, ${nameOr('a.name', 'e.agency_id')} AS agency,
       count() AS entries,
       countIf(e.urgent_reason != '') AS urgent,
       countIf(e.urgent_reason != '') / count() AS urgent_share
FROM (
    SELECT id, any(agency_id) AS agency_id, any(urgent_reason) AS urgent_reason, any(region) AS region, min(occurred_at) AS occurred_at
    FROM events FINAL
    WHERE type = 'checkin' AND action = 'enter' AND onsite
    GROUP BY id
  ) AS e
LEFT JOIN ${AGENCY_NAMES} AS a ON a.agency_id = e.agency_id
WHERE ${d.during('e.occurred_at')}
  AND ${regionIs(d, 'e.region')}
  AND ${agencyIs(d, 'e.agency_id')}
GROUP BY agency_id, agency
ORDER BY urgent_share DESC, agency_id`,
  },
];
