/**
 * 执法监督: the justice bureau's statistics as charts (Apache ECharts, served from this origin), each with a
 * table view and a CSV download, filtered by time range, region prefix and agency. Every chart reads one
 * statistic of GET /v1/stats, the same definitions the Grafana board runs. A company of the top 20 opens its
 * timeline beside the charts (#justice/company/<credit code>).
 */
import { api, ApiError, query } from './api.js';
import { fill, h } from './dom.js';
import { absolute } from './format.js';
import * as L from './labels.js';
import { namesEl } from './names.js';
import { chinese, csvName, display, download, fetchStat, percent, statTable, toCsv } from './stats.js';

const ECHARTS = '/console/vendor/echarts.esm.min.js';
let echartsModule;
const echarts = () => (echartsModule ??= import(ECHARTS));

const DAY = 86_400_000;
const shanghaiDate = (ms) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

// ---------- how each chart draws its statistic ----------

/** Bars per category (an agency, a rule …): horizontal, so long Chinese names stay readable. */
const bars = (category, values, { percent: share = false, stack = false } = {}) => ({ type: 'bars', category, values, share, stack });
const lines = (series, value, { percent: share = false } = {}) => ({ type: 'lines', series, value, share });
const pie = (name, value) => ({ type: 'pie', name, value });

/** The charts, in the order of the issue: inspections, plans, visits, breaches and handling, hotline, indicators. */
const CHARTS = [
  { stat: 'inspections-by-day-agency', draw: lines('agency', 'inspections'), wide: true },
  { stat: 'inspections-by-day-district', draw: lines('district', 'inspections'), wide: true },
  { stat: 'inspections-by-mode', draw: pie('mode', 'inspections') },
  { stat: 'joint-rate-by-agency', draw: bars('agency', ['joint_rate'], { percent: true }) },
  { stat: 'plan-merging-by-agency', draw: bars('agency', ['joint_plans', 'overlap_findings']) },
  { stat: 'filing-ahead-by-week', draw: lines(null, 'filed_ahead_share', { percent: true }) },
  { stat: 'filing-by-agency', draw: bars('agency', ['filed_ahead_share'], { percent: true }) },
  { stat: 'green-channel-by-agency', draw: bars('agency', ['urgent_share'], { percent: true }) },
  { stat: 'visits-distribution', draw: bars('visits', ['companies']) },
  { stat: 'most-visited', draw: bars('company', ['visits']) },
  { stat: 'breaches-by-rule', draw: bars('rule_id', ['breaches']) },
  { stat: 'breaches-by-region', draw: bars('region', ['breaches']) },
  { stat: 'breaches-by-agency', draw: bars('agency', ['breaches']) },
  { stat: 'time-to-acknowledge-by-rule', draw: bars('rule_id', ['p50_seconds', 'p90_seconds']) },
  { stat: 'false-positive-share-by-rule', draw: bars('rule_id', ['false_positive_share'], { percent: true }) },
  { stat: 'tickets-by-category-state', draw: bars('category_label', ['new', 'claimed', 'assigned', 'resolved'], { stack: true }) },
  { stat: 'hotline-sla-by-category', draw: bars('category_label', ['accepted_in_time', 'resolved_in_time'], { percent: true }) },
  { stat: 'joint-and-detection-by-agency', draw: bars('agency', ['joint_rate', 'detection_rate'], { percent: true }) },
  { stat: 'low-quality-by-agency-month', draw: bars(['month', 'agency'], ['deregistered', 'joint_not_together'], { stack: true }) },
  { stat: 'plan-execution-by-week', draw: bars(['week', 'agency'], ['carried_out', 'not_carried_out', 'cancelled'], { stack: true }) },
];

/** The figures above the charts: [statistic, column]. */
const FIGURES = [
  ['inspections', 'inspections'], ['inspections', 'offsite_share'], ['joint-rate', 'joint_rate'], ['filing-ahead', 'filed_ahead_share'],
];

const columnOf = (stat, name) => stat.columns.find((c) => c.name === name);

/** The ECharts option for a statistic's rows. Text is drawn on the canvas (richText tooltips): no inline styles under the CSP. */
function optionOf(draw, stat, names) {
  const base = { animation: false, backgroundColor: 'transparent', tooltip: { renderMode: 'richText', trigger: draw.type === 'pie' ? 'item' : 'axis' }, textStyle: { fontFamily: 'inherit' } };
  const axisValue = draw.share ? { type: 'value', max: 1, axisLabel: { formatter: (v) => percent(v, 0) } } : { type: 'value' };
  if (draw.type === 'pie') {
    return { ...base, legend: { bottom: 0 }, series: [{ type: 'pie', radius: ['40%', '68%'], data: stat.rows.map((r) => ({ name: r[draw.name], value: r[draw.value] })) }] };
  }
  if (draw.type === 'lines') {
    const times = [...new Set(stat.rows.map((r) => r.time.slice(0, 10)))];
    const keys = draw.series ? [...new Set(stat.rows.map((r) => r[draw.series]))] : [columnOf(stat, draw.value).zh];
    const series = keys.map((key) => {
      const byTime = new Map(stat.rows.filter((r) => !draw.series || r[draw.series] === key).map((r) => [r.time.slice(0, 10), r[draw.value]]));
      return { type: 'line', name: draw.series ? names(draw.series, key) : key, showSymbol: false, data: times.map((t) => byTime.get(t) ?? 0) };
    });
    return { ...base, legend: { type: 'scroll', bottom: 0 }, grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true }, xAxis: { type: 'category', data: times }, yAxis: axisValue, series };
  }
  const categoryOf = (row) => [draw.category].flat().map((name) => names(name, row[name])).join(' ');
  const series = draw.values.map((name) => ({
    type: 'bar', name: columnOf(stat, name).zh, stack: draw.stack ? 'total' : undefined,
    data: stat.rows.map((r) => r[name]),
  }));
  const seconds = draw.values.some((name) => columnOf(stat, name).kind === 'seconds');
  return {
    ...base,
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 8, right: 24, top: 16, bottom: 40, containLabel: true },
    yAxis: { type: 'category', inverse: true, data: stat.rows.map(categoryOf), axisLabel: { width: 180, overflow: 'truncate' } },
    xAxis: seconds ? { type: 'value', name: '秒' } : axisValue,
    series,
  };
}

// ---------- the view ----------

export function startJustice({ root }) {
  const els = {
    form: root.querySelector('#justice-filters'),
    agency: root.querySelector('#justice-filters select[name="agency"]'),
    figures: root.querySelector('#justice-figures'),
    grid: root.querySelector('#justice-charts'),
    notice: root.querySelector('#justice-notice'),
    company: root.querySelector('#company-pane'),
  };
  const cards = new Map();
  const labels = { rules: new Map(), regions: [] };
  let loaded = null;
  let generation = 0;

  const today = Date.now();
  els.form.elements.from.value = shanghaiDate(today - 29 * DAY);
  els.form.elements.to.value = shanghaiDate(today);

  /** The filters as the API takes them: whole Shanghai days, both ends included. */
  const params = () => {
    const f = els.form.elements;
    return {
      from: f.from.value ? `${f.from.value}T00:00:00+08:00` : undefined,
      to: f.to.value ? `${f.to.value}T23:59:59+08:00` : undefined,
      region: f.region.value.trim() || undefined,
      agency: f.agency.value || undefined,
    };
  };

  /** A code with its name: a rule's title, a region's place in the policy map, a ticket category. */
  const names = (column, value) => {
    if (value === null || value === undefined || value === '') return '—';
    if (column === 'rule_id' || column === 'rule') return labels.rules.get(value) ? `${labels.rules.get(value)}（${value}）` : value;
    if (column === 'category') return L.CATEGORY[value] ?? labels.rules.get(value) ?? value;
    if (column === 'region' || column === 'district') {
      const place = labels.regions.filter((r) => value.startsWith(r.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
      return place ? `${value}（${place.name}）` : value;
    }
    return String(value);
  };

  const cell = (column, value, row) => {
    if (column.name === 'company' && row.enterprise_id) {
      return h('a', { href: `#justice/company/${encodeURIComponent(row.enterprise_id)}`, class: 'company-link' }, value);
    }
    return undefined;
  };

  function card(chart) {
    const chartEl = h('div', { class: 'chart', role: 'img' });
    const tableEl = h('div', { class: 'table-wrap', hidden: true });
    const toggle = h('button', { type: 'button', class: 'quiet view-toggle', 'aria-pressed': 'false' }, '表格');
    const csv = h('button', { type: 'button', class: 'quiet csv', disabled: true }, '下载 CSV');
    const title = h('h2', {}, '…');
    const about = h('p', { class: 'muted small about' });
    const status = h('p', { class: 'muted small status' }, '加载中…');
    const el = h('article', { class: ['stat-card', chart.wide && 'wide'], dataset: { stat: chart.stat, state: 'loading' } },
      h('header', {}, title, h('div', { class: 'card-actions' }, toggle, csv)), about, status, chartEl, tableEl);
    const entry = { chart, el, chartEl, tableEl, title, about, status, csv, instance: null, data: null };
    toggle.addEventListener('click', () => {
      const table = toggle.getAttribute('aria-pressed') !== 'true';
      toggle.setAttribute('aria-pressed', String(table));
      toggle.textContent = table ? '图表' : '表格';
      tableEl.hidden = !table;
      chartEl.hidden = table;
      if (!table) entry.instance?.resize();
    });
    csv.addEventListener('click', () => entry.data && download(csvName(chart.stat, entry.data.params), toCsv(entry.data)));
    return entry;
  }

  async function render(entry, stat) {
    entry.data = stat;
    entry.title.textContent = stat.title.zh;
    entry.about.textContent = chinese(stat.description);
    entry.chartEl.setAttribute('aria-label', `${stat.title.zh}（图表；表格视图列出同样的数据）`);
    entry.csv.disabled = false;
    fill(entry.tableEl, statTable(stat, { label: names, cell }));
    entry.status.textContent = stat.rows.length === 0 ? '所选范围内没有数据。' : '';
    entry.status.hidden = stat.rows.length > 0;
    const lib = await echarts();
    // ECharts' own dark theme where the page is dark; the card's background shows through.
    entry.instance ??= lib.init(entry.chartEl, matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : null, { renderer: 'canvas' });
    entry.instance.setOption(optionOf(entry.chart.draw, stat, names), true);
    entry.el.dataset.state = stat.rows.length === 0 ? 'empty' : 'ready';
  }

  async function refresh() {
    const mine = ++generation;
    const p = params();
    els.notice.hidden = true;
    for (const entry of cards.values()) entry.el.dataset.state = 'loading';
    const figures = await Promise.allSettled([...new Set(FIGURES.map(([s]) => s))].map((s) => fetchStat(s, p)));
    if (mine !== generation) return;
    const byName = new Map(figures.filter((f) => f.status === 'fulfilled').map((f) => [f.value.name, f.value]));
    fill(els.figures, FIGURES.map(([s, c]) => {
      const stat = byName.get(s);
      const column = stat && columnOf(stat, c);
      return h('div', { class: 'figure', dataset: { stat: s, column: c } },
        h('span', { class: 'muted' }, column?.zh ?? c), h('strong', {}, stat ? display(column, stat.rows[0]?.[c]) : '—'));
    }));
    await Promise.all([...cards.values()].map(async (entry) => {
      try {
        const stat = await fetchStat(entry.chart.stat, p);
        if (mine === generation) await render(entry, stat);
      } catch (err) {
        if (mine !== generation) return;
        entry.el.dataset.state = 'error';
        entry.status.hidden = false;
        entry.status.textContent = `加载失败：${err.message}`;
      }
    }));
  }

  async function loadAgencies() {
    const region = params().region;
    const chosen = els.agency.value;
    const { rows } = await fetchStat('agencies', { region });
    fill(els.agency, h('option', { value: '' }, '全部部门'),
      rows.map((a) => h('option', { value: a.agency_id, selected: a.agency_id === chosen }, `${a.name}（${a.agency_id}）`)));
  }

  async function firstLoad() {
    // Rule titles and the policy map's place names label codes; a role without the rules sees the codes.
    const rules = await api.get('/v1/rules').catch(() => null);
    labels.regions = rules?.regions ?? [];
    for (const r of rules?.rules ?? []) labels.rules.set(r.id, r.title?.zh ?? r.id);
    for (const chart of CHARTS) {
      const entry = card(chart);
      cards.set(chart.stat, entry);
      els.grid.append(entry.el);
    }
    await loadAgencies().catch(() => {});
    await refresh();
  }

  els.form.addEventListener('change', async (event) => {
    if (event.target.name === 'region') await loadAgencies().catch(() => {});
    refresh();
  });
  els.form.addEventListener('submit', (event) => event.preventDefault());
  addEventListener('resize', () => cards.forEach((entry) => entry.instance?.resize()));
  addEventListener('hashchange', () => showCompany());

  // ---------- a company's timeline ----------

  const agencyNames = new Map();
  const agencyName = (id) => {
    if (!agencyNames.has(id)) agencyNames.set(id, api.get(`/v1/agencies/${encodeURIComponent(id)}`).then((a) => a.name).catch(() => null));
    return agencyNames.get(id);
  };

  async function showCompany() {
    const match = /^#justice\/company\/(.+)$/.exec(location.hash);
    els.company.hidden = !match;
    if (!match) return;
    const id = decodeURIComponent(match[1]);
    fill(els.company, h('p', { class: 'muted' }, '加载中…'));
    try {
      const from = new Date(Date.now() - 365 * DAY).toISOString();
      const [company, timeline] = await Promise.all([
        api.get(`/v1/enterprises/${encodeURIComponent(id)}`).catch((err) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err))),
        api.get(`/v1/enterprises/${encodeURIComponent(id)}/timeline${query({ from, limit: 1000 })}`),
      ]);
      const agencies = [...new Set(timeline.items.map((e) => e.agency_id).filter(Boolean))];
      const known = new Map(await Promise.all(agencies.map(async (a) => [a, await agencyName(a)])));
      const events = [...timeline.items].reverse();
      fill(els.company,
        h('header', { class: 'company-head' },
          h('h2', { id: 'company-title' }, company?.name ?? id),
          h('a', { href: '#justice', class: 'quiet close' }, '关闭')),
        h('dl', { class: 'facts' },
          h('div', {}, h('dt', {}, '统一社会信用代码'), h('dd', { class: 'mono' }, id)),
          company ? h('div', {}, h('dt', {}, '所在地区'), h('dd', {}, names('region', company.region))) : null,
          company?.credit_grade ? h('div', {}, h('dt', {}, '信用等级'), h('dd', {}, company.credit_grade)) : null,
          company?.status ? h('div', {}, h('dt', {}, '经营状态'), h('dd', {}, company.status === 'deregistered' ? `已注销（${company.deregistered_on ?? ''}）` : '存续')) : null),
        h('h3', {}, `近一年检查记录（${events.length} 条）`),
        h('ol', { class: 'timeline' }, events.map((e) => h('li', { class: `event type-${e.type}` },
          h('time', { datetime: e.occurred_at }, absolute(new Date(e.occurred_at))),
          ' ', h('span', { class: 'tag' }, L.eventType(e.type)),
          e.agency_id ? h('span', {}, ' ', known.get(e.agency_id) ?? '', h('span', { class: 'mono small muted' }, `（${e.agency_id}）`)) : null,
          e.officer_ids?.length ? h('span', { class: 'muted small' }, ' 执法人员 ', namesEl('officer', e.officer_ids)) : null,
          e.outcome ? h('span', {}, ` · ${L.INSPECTION_OUTCOME[e.outcome] ?? e.outcome}`) : null,
          e.plan_id ? h('span', { class: 'muted small' }, ` · 计划 ${e.plan_id}`) : null))));
    } catch (err) {
      fill(els.company, h('p', { class: 'error', role: 'alert' }, `企业记录加载失败：${err.message}`));
    }
  }

  return {
    async show() {
      loaded ??= firstLoad().catch((err) => {
        loaded = null;
        els.notice.hidden = false;
        els.notice.dataset.kind = 'error';
        els.notice.textContent = `统计加载失败：${err.message}`;
      });
      await loaded;
      cards.forEach((entry) => entry.instance?.resize());
      showCompany();
    },
  };
}
