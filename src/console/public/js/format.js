/** Times as the commission reads them: Shanghai wall clock, plus how long ago. */
const TZ = 'Asia/Shanghai';

const parts = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

function fields(date) {
  const out = {};
  for (const p of parts.formatToParts(date)) out[p.type] = p.value;
  return out;
}

const toDate = (value) => (value instanceof Date ? value : new Date(value));
const valid = (d) => !Number.isNaN(d.getTime());

/** 2026-11-20 09:30 (Shanghai). */
export function absolute(value, { seconds = false } = {}) {
  if (value === null || value === undefined || value === '') return '—';
  const d = toDate(value);
  if (!valid(d)) return String(value);
  const f = fields(d);
  return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}${seconds ? `:${f.second}` : ''}`;
}

/** 11-20 09:30, or 09:30 today. */
export function short(value, now = new Date()) {
  const d = toDate(value);
  if (!valid(d)) return '—';
  const f = fields(d);
  const n = fields(now);
  if (f.year === n.year && f.month === n.month && f.day === n.day) return `${f.hour}:${f.minute}`;
  if (f.year === n.year) return `${f.month}-${f.day} ${f.hour}:${f.minute}`;
  return `${f.year}-${f.month}-${f.day}`;
}

/** A date only: 2026-11-20. */
export function day(value) {
  const d = toDate(value);
  if (!valid(d)) return String(value ?? '—');
  const f = fields(d);
  return `${f.year}-${f.month}-${f.day}`;
}

const rtf = new Intl.RelativeTimeFormat('zh-CN', { numeric: 'auto' });
const STEPS = [
  ['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity],
];

/** 刚刚, 5分钟前, 3天后 … */
export function relative(value, now = Date.now()) {
  const d = toDate(value);
  if (!valid(d)) return '';
  let delta = (d.getTime() - now) / 1000;
  if (Math.abs(delta) < 45) return '刚刚';
  for (const [unit, size] of STEPS) {
    if (Math.abs(delta) < size) return rtf.format(Math.round(delta), unit);
    delta /= size;
  }
  return '';
}

/** How long something has waited: 2小时15分, 3天4小时. */
export function duration(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}小时${minutes % 60 ? `${minutes % 60}分` : ''}`;
  return `${Math.floor(hours / 24)}天${hours % 24 ? `${hours % 24}小时` : ''}`;
}

/**
 * A <time> element showing "relative (absolute)" that the page refreshes
 * every half minute (see refreshTimes).
 */
export function timeEl(value, { mode = 'both', className } = {}) {
  const el = document.createElement('time');
  if (className) el.className = className;
  if (value === null || value === undefined || value === '') {
    el.textContent = '—';
    return el;
  }
  const d = toDate(value);
  if (!valid(d)) {
    el.textContent = String(value);
    return el;
  }
  el.dateTime = d.toISOString();
  el.dataset.mode = mode;
  el.title = `${absolute(d, { seconds: true })}（北京时间）`;
  paint(el);
  return el;
}

function paint(el, now = Date.now()) {
  const d = new Date(el.dateTime);
  const mode = el.dataset.mode;
  if (mode === 'relative') el.textContent = relative(d, now);
  else if (mode === 'absolute') el.textContent = absolute(d);
  else if (mode === 'short') el.textContent = `${short(d)} · ${relative(d, now)}`;
  else el.textContent = `${absolute(d)}（${relative(d, now)}）`;
}

/** Refreshes every relative time under root. */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-mode]')) {
    if (el.dataset.mode !== 'absolute') paint(el, now);
  }
}

export function number(n) {
  return typeof n === 'number' ? n.toLocaleString('zh-CN') : String(n);
}
