import { column, type StatDefinition } from './definition.js';
import { VISITS, agencyIs, foundProblem, inspectionsWithPlan, regionIs, standing, type Dialect } from './sql.js';

/** Per agency: inspection records, on-site, joint, with an outcome, problems found. */
const inspectionCounts = (d: Dialect) => `(
    SELECT agency_id, count() AS inspections, countIf(onsite) AS onsite_n, countIf(onsite AND joint) AS joint_n,
           countIf(outcome != '') AS with_outcome, countIf(${foundProblem('outcome')}) AS problems
    FROM ${inspectionsWithPlan(d)}
    GROUP BY agency_id
  )`;

const visitCounts = (d: Dialect) => `(
    SELECT agency_id, uniqExact(enterprise_id, day) AS visits, uniqExact(enterprise_id) AS companies
    FROM ${VISITS}
    WHERE ${d.during('at')} AND ${regionIs(d)}
    GROUP BY agency_id
  )`;

const breachCounts = (d: Dialect) => `(
    SELECT agency_id, count() AS breaches
    FROM alerts FINAL
    WHERE ${standing()} AND ${d.during('last_seen_at')} AND ${regionIs(d)}
    GROUP BY agency_id
  )`;

const REPORT_COLUMNS = [
  column('inspections', 'count', '检查', 'inspections'),
  column('onsite_inspections', 'count', '现场检查', 'on-site inspections'),
  column('joint_inspections', 'count', '联合检查', 'joint inspections'),
  column('joint_rate', 'share', '联合实施率', 'joint rate'),
  column('problems_found', 'count', '发现问题', 'problems found'),
  column('detection_rate', 'share', '问题检出率', 'detection rate'),
  column('visits', 'count', '入企次数', 'visits'),
  column('companies_visited', 'count', '受检企业', 'companies visited'),
  column('visits_per_company', 'number', '户均入企', 'visits per company'),
  column('breaches', 'count', '违规', 'breaches'),
];

/**
 * 「月度通报」: the figures 宁波海曙 publishes (联合实施率, 问题检出率) with visits per company and breaches, for
 * one region and month (the console sends the month as the range).
 */
export const REPORT_STATS: StatDefinition[] = [
  {
    name: 'monthly-report',
    title: { zh: '月度通报（按部门排名）', en: 'Monthly report, agencies ranked' },
    description: '所选地区各执法部门的联合实施率、问题检出率、户均入企次数和违规数，按联合实施率、问题检出率排名（无现场检查的部门排在最后）。Agencies of the region ranked by joint rate, then detection rate.',
    columns: [
      column('rank', 'count', '排名', 'rank'),
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('agency', 'text', '部门', 'agency'),
      ...REPORT_COLUMNS,
    ],
    sql: (d) => `SELECT row_number() OVER (ORDER BY isNull(joint_rate), joint_rate DESC, isNull(detection_rate), detection_rate DESC, agency_id) AS rank,
       agency_id, agency, inspections, onsite_inspections, joint_inspections, joint_rate, problems_found, detection_rate,
       visits, companies_visited, visits_per_company, breaches
FROM (
  SELECT ag.agency_id AS agency_id, ag.name AS agency,
         i.inspections AS inspections, i.onsite_n AS onsite_inspections, i.joint_n AS joint_inspections,
         i.joint_n / nullIf(i.onsite_n, 0) AS joint_rate,
         i.problems AS problems_found, i.problems / nullIf(i.with_outcome, 0) AS detection_rate,
         v.visits AS visits, v.companies AS companies_visited, v.visits / nullIf(v.companies, 0) AS visits_per_company,
         b.breaches AS breaches
  FROM (SELECT agency_id, if(name = '', agency_id, name) AS name FROM agencies FINAL WHERE ${regionIs(d)} AND ${agencyIs(d)}) AS ag
  LEFT JOIN ${inspectionCounts(d)} AS i ON i.agency_id = ag.agency_id
  LEFT JOIN ${visitCounts(d)} AS v ON v.agency_id = ag.agency_id
  LEFT JOIN ${breachCounts(d)} AS b ON b.agency_id = ag.agency_id
)
ORDER BY rank`,
  },
  {
    name: 'monthly-summary',
    title: { zh: '月度通报（全地区）', en: 'Monthly report, the region' },
    description: '所选地区（及部门）的合计：联合实施率、问题检出率、户均入企次数、违规数。The region\'s totals of the monthly report.',
    columns: REPORT_COLUMNS,
    sql: (d) => `SELECT i.inspections AS inspections, i.onsite_n AS onsite_inspections, i.joint_n AS joint_inspections,
       i.joint_n / nullIf(i.onsite_n, 0) AS joint_rate,
       i.problems AS problems_found, i.problems / nullIf(i.with_outcome, 0) AS detection_rate,
       v.visits AS visits, v.companies AS companies_visited, v.visits / nullIf(v.companies, 0) AS visits_per_company,
       b.breaches AS breaches
FROM (
  SELECT count() AS inspections, countIf(onsite) AS onsite_n, countIf(onsite AND joint) AS joint_n,
         countIf(outcome != '') AS with_outcome, countIf(${foundProblem('outcome')}) AS problems
  FROM ${inspectionsWithPlan(d)}
  WHERE ${agencyIs(d)}
) AS i
CROSS JOIN (
  SELECT uniqExact(agency_id, enterprise_id, day) AS visits, uniqExact(enterprise_id) AS companies
  FROM ${VISITS}
  WHERE ${d.during('at')} AND ${regionIs(d)} AND ${agencyIs(d)}
) AS v
CROSS JOIN (
  SELECT count() AS breaches
  FROM alerts FINAL
  WHERE ${standing()} AND ${d.during('last_seen_at')} AND ${regionIs(d)} AND ${agencyIs(d)}
) AS b`,
  },
];
