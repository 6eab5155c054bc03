/**
 * 「月度通报」: one region's month as 宁波海曙 publishes it — 联合实施率, 问题检出率, visits per company and breaches,
 * agencies ranked — as a page to print and as CSV. Both read GET /v1/stats (monthly-summary, monthly-report).
 */
import { api } from './api.js';
import { fill, h } from './dom.js';
import { csvName, display, download, fetchStat, statTable, toCsv } from './stats.js';

const pad = (n) => String(n).padStart(2, '0');

/** A month (YYYY-MM) as the API's range: its first to its last Shanghai day, both included. */
export function monthRange(month) {
  const [year, m] = month.split('-').map(Number);
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return { from: `${month}-01T00:00:00+08:00`, to: `${month}-${pad(last)}T23:59:59+08:00` };
}

const HEADLINE = ['joint_rate', 'detection_rate', 'visits_per_company', 'breaches', 'inspections', 'companies_visited'];

export function startReport({ root }) {
  const els = {
    form: root.querySelector('#report-form'),
    body: root.querySelector('#report-body'),
    print: root.querySelector('#report-print'),
    csv: root.querySelector('#report-csv'),
  };
  const now = new Date(Date.now() + 8 * 3600_000);
  // The last whole month: a report is published once the month is over.
  const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  els.form.elements.month.value = `${previous.getUTCFullYear()}-${pad(previous.getUTCMonth() + 1)}`;
  let report = null;
  let generation = 0;
  // The policy map's place names (3311 丽水市); a role without the rules sees the code alone.
  let places = null;
  const placeOf = async (region) => {
    places ??= api.get('/v1/rules').then((r) => r.regions ?? []).catch(() => []);
    const [place] = (await places).filter((p) => region.startsWith(p.prefix)).sort((a, b) => b.prefix.length - a.prefix.length);
    return place ? ` ${place.name}` : '';
  };
  let loading = Promise.resolve();

  // Clicking a button takes the focus from a field just typed in, whose change reloads the report first: the
  // buttons wait for that load, so they print and download what the fields now say.
  const load = () => (loading = reload());

  async function reload() {
    const mine = ++generation;
    const f = els.form.elements;
    const region = f.region.value.trim();
    const month = f.month.value;
    report = null;
    if (!/^\d{2,6}$/.test(region) || !month) {
      fill(els.body, h('p', { class: 'muted' }, '请选择地区（行政区划代码前缀，如 330203）和月份。'));
      els.csv.disabled = true;
      els.print.disabled = true;
      return;
    }
    fill(els.body, h('p', { class: 'muted' }, '加载中…'));
    try {
      const params = { ...monthRange(month), region };
      const [summary, ranked, place] = await Promise.all([fetchStat('monthly-summary', params), fetchStat('monthly-report', params), placeOf(region)]);
      // A newer choice of region or month is on its way: this answer is stale.
      if (mine !== generation) return;
      report = ranked;
      const [year, m] = month.split('-');
      const totals = summary.rows[0] ?? {};
      fill(els.body,
        h('header', { class: 'report-head' },
          h('h2', {}, `${region}${place || ' 地区'} ${year}年${Number(m)}月 涉企行政检查月度通报`),
          h('p', { class: 'muted small' }, `统计期间 ${params.from.slice(0, 10)} 至 ${params.to.slice(0, 10)}；联合实施率 = 现场检查中联合检查的比例，问题检出率 = 有结论的检查中发现问题的比例；部门按联合实施率、问题检出率排名。`)),
        h('dl', { class: 'report-figures' }, HEADLINE.map((name) => {
          const column = summary.columns.find((c) => c.name === name);
          return h('div', { dataset: { column: name } }, h('dt', {}, column.zh), h('dd', {}, display(column, totals[name])));
        })),
        h('h3', {}, '各执法部门排名'),
        ranked.rows.length === 0 ? h('p', { class: 'muted' }, '该地区没有执法部门的参考数据。') : statTable(ranked));
      els.csv.disabled = false;
      els.print.disabled = false;
    } catch (err) {
      if (mine === generation) fill(els.body, h('p', { class: 'error', role: 'alert' }, `通报加载失败：${err.message}`));
    }
  }

  els.form.addEventListener('change', load);
  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  els.print.addEventListener('click', async () => {
    await loading;
    if (report) print();
  });
  els.csv.addEventListener('click', async () => {
    await loading;
    if (report) download(csvName('monthly-report', report.params), toCsv(report));
  });

  return { show: () => load() };
}
