/**
 * The statistics the justice bureau reads (GET /v1/stats/{name}): fetching one, showing its rows as a table,
 * and the same rows as a CSV file. The CSV holds the API's values as they are (shares as fractions), so a
 * spreadsheet recomputes nothing; its header is the columns' Chinese labels.
 */
import { api, query } from './api.js';
import { h } from './dom.js';
import { absolute, number } from './format.js';

/** One statistic for { from, to, region, agency }: { name, title, description, columns, params, rows }. */
export const fetchStat = (name, params) => api.get(`/v1/stats/${encodeURIComponent(name)}${query(params)}`);

/** The Chinese half of a bilingual description ("…。English …"). */
export const chinese = (text) => text.split(/(?<=[。）)])\s*(?=[A-Z])/)[0];

export const percent = (v, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);

/** Day buckets (`time`) are Shanghai days already; other times are stored in UTC. */
function timeText(name, value) {
  if (name === 'time') return value.slice(0, 10);
  const d = new Date(`${value.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? value : absolute(d);
}

/** A value for reading, by its column's kind. */
export function display(column, value, label = (_name, v) => v) {
  if (value === null || value === undefined || value === '') return '—';
  switch (column.kind) {
    case 'share': return percent(value);
    case 'seconds': return value >= 3600 ? `${(value / 3600).toFixed(1)} 小时` : `${(value / 60).toFixed(1)} 分钟`;
    case 'days': return `${number(value)} 天`;
    case 'number': return value.toFixed(2);
    case 'count': return number(value);
    case 'time': return timeText(column.name, value);
    default: return label(column.name, value);
  }
}

/**
 * The rows as a table. `label(column, value)` names codes (a rule's title, a region's name) beside them;
 * `cell(column, value, row)` may return an element instead (a link).
 */
export function statTable(stat, { label, cell } = {}) {
  const numeric = (c) => ['count', 'number', 'share', 'seconds', 'days'].includes(c.kind);
  return h('table', { class: 'stat-table' },
    h('caption', { class: 'visually-hidden' }, stat.title.zh),
    h('thead', {}, h('tr', {}, stat.columns.map((c) => h('th', { scope: 'col', title: c.name, class: numeric(c) ? 'num' : null }, c.zh)))),
    h('tbody', {}, stat.rows.map((row) => h('tr', {}, stat.columns.map((c) => h('td', { class: numeric(c) ? 'num' : null },
      cell?.(c, row[c.name], row) ?? display(c, row[c.name], label)))))));
}

const csvField = (value) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** RFC 4180 text with a BOM (spreadsheets then read it as UTF-8). */
export function toCsv(stat) {
  const lines = [stat.columns.map((c) => csvField(c.zh)), ...stat.rows.map((row) => stat.columns.map((c) => csvField(row[c.name])))];
  return `\ufeff${lines.map((fields) => fields.join(',')).join('\r\n')}\r\n`;
}

/** Offers `text` as a file download, from memory: nothing leaves the page. */
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** stats-inspections-2026-11-01_2026-11-30-3714.csv */
export function csvName(name, params) {
  const parts = [params.from?.slice(0, 10), params.to?.slice(0, 10)].filter(Boolean).join('_');
  return `stats-${name}${parts ? `-${parts}` : ''}${params.region ? `-${params.region}` : ''}${params.agency ? `-${params.agency}` : ''}.csv`;
}
