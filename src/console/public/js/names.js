/**
 * Names where people read codes: regions (GB/T 2260, from divisions.json),
 * companies, agencies and officers (the reference data, GET /v1/enterprises?q=,
 * /v1/agencies?q= and /v1/officers?q=, asked once per page and a few at a
 * time). The code (an officer's number) stays on hover (title) and in exports.
 */
import { api, query } from './api.js';
import { h } from './dom.js';

let divisions = {};
/** Loads the division names once; pages render codes until then. */
export const divisionsLoaded = fetch('/console/divisions.json', { cache: 'force-cache' })
  .then((res) => (res.ok ? res.json() : { names: {} }))
  .then((body) => { divisions = body.names ?? {}; })
  .catch(() => { /* codes stay as they are */ });

/** 德州市德城区 for 371402, 德州市 for 3714 or 371400, 山东省 for 37; the code itself when unknown. */
export function regionName(code) {
  const c = String(code ?? '');
  if (!c) return '—';
  if (c.length === 6 && !c.endsWith('00') && divisions[c]) {
    const city = divisions[c.slice(0, 4)];
    return city ? `${city}${divisions[c]}` : divisions[c];
  }
  return divisions[c] ?? divisions[c.replace(/0+$/, '')] ?? c;
}

const cache = { enterprise: new Map(), agency: new Map(), officer: new Map() };
// The search answers 200 with no match for an id without a record, where the lookup by id would answer 404.
// The officer search matches numbers in part but puts an exact one first, so one row asked for an id is that officer.
const PATH = { enterprise: '/v1/enterprises', agency: '/v1/agencies', officer: '/v1/officers' };
const queue = [];
let running = 0;
const PARALLEL = 4;

function pump() {
  while (running < PARALLEL && queue.length > 0) {
    const { kind, id, resolve } = queue.shift();
    running++;
    api.get(`${PATH[kind]}${query({ q: id, limit: 1 })}`)
      .then(({ items = [] }) => resolve(items.find((r) => r.id === id)?.name || null), () => resolve(null))
      .finally(() => {
        running--;
        pump();
      });
  }
}

/** The name of a company, agency or officer, or null when it is not in the reference data (or not readable). */
export function lookupName(kind, id) {
  if (!id || !PATH[kind]) return Promise.resolve(null);
  let found = cache[kind].get(id);
  if (!found) {
    found = new Promise((resolve) => {
      queue.push({ kind, id, resolve });
      pump();
    });
    cache[kind].set(id, found);
  }
  return found;
}

/** A span showing the name (the code until it is known, and when there is none); the code on hover. */
export function nameEl(kind, id, { className } = {}) {
  const el = h('span', { class: ['name', className], title: id ?? '', dataset: { code: id ?? '' } }, id ?? '—');
  if (!id) return el;
  if (kind === 'region') {
    divisionsLoaded.then(() => { el.textContent = regionName(id); });
    return el;
  }
  lookupName(kind, id).then((name) => {
    if (name) el.textContent = name;
  });
  return el;
}

/** Several ids as names, joined with 、. */
export function namesEl(kind, ids) {
  const list = Array.isArray(ids) ? ids : [ids];
  return h('span', {}, list.flatMap((id, i) => (i === 0 ? [nameEl(kind, id)] : ['、', nameEl(kind, id)])));
}

/** Fills a region <select> with the known divisions by name, indented by level (省 › 市 › 县区). */
export async function fillRegionOptions(select) {
  await divisionsLoaded;
  const codes = Object.keys(divisions)
    .filter((c) => c.length === 2 || c.length === 4 || (c.length === 6 && !c.endsWith('00')))
    .sort();
  for (const code of codes) {
    const depth = code.length === 2 ? 0 : code.length === 4 ? 1 : 2;
    select.append(h('option', { value: code, title: code }, `${'\u3000'.repeat(depth)}${divisions[code]}`));
  }
}
