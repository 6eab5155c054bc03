import { column, type StatDefinition } from './definition.js';
import { regionIs } from './sql.js';

/** Reference data the view filters and labels with. */
export const REFERENCE_STATS: StatDefinition[] = [
  {
    name: 'agencies',
    title: { zh: '执法部门', en: 'Agencies' },
    description: '所选地区的执法部门（参考数据），不受时间范围限制。The agencies of the region, whatever the time range.',
    columns: [
      column('agency_id', 'code', '部门编码', 'agency id'),
      column('name', 'text', '部门', 'agency'),
      column('region', 'code', '地区', 'region'),
      column('kind', 'code', '类别', 'kind'),
    ],
    sql: (d) => `SELECT agency_id, name, region, kind
FROM agencies FINAL
WHERE ${regionIs(d)}
ORDER BY agency_id`,
  },
];
