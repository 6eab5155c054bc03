/**
 * 规则适用: where each rule holds, read from GET /v1/rules (the policy map,
 * rules/regions.yaml). Per rule: the regions it is in force in, the clause that
 * puts it there, the reading and local choice where the map states one, and the
 * parameters in force there. Above that, one line per region of the map with
 * the rules that hold there. Read again each time the view is shown, since the
 * rule set reloads while the service runs.
 */
import { api, ApiError } from './api.js';
import { errorLine, fill, h } from './dom.js';
import * as L from './labels.js';

const regionLabel = (entry) => (entry.prefix === '*' ? entry.name : `${entry.prefix} ${entry.name}`);

/**
 * What the view shows for one place a rule holds: the in_force entry (GET /v1/rules gives the clause of the entry
 * that names the rule there). An inherited place (云和 331125 holds 丽水 3311's quiet period) does not repeat that
 * entry's reading and local choice: the entry is listed just before it.
 */
function placeOf(regions, entry) {
  if (!entry.inherited_from) return { ...entry, inherited: null };
  const owner = (regions ?? []).find((r) => r.prefix === entry.inherited_from) ?? { prefix: entry.inherited_from, name: '' };
  return { ...entry, reading: null, local_choice: null, inherited: owner };
}

const paramValue = (value) => {
  if (typeof value === 'boolean') return value ? '是' : '否';
  // Day ranges of a month are written 21..31 in the rule files.
  const text = (v) => String(v).replace(/^(\d+)\.\.(\d+)$/, '$1–$2');
  return Array.isArray(value) ? value.map(text).join('、') : text(value);
};

function paramList(params, defaults) {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return null;
  return h('ul', { class: 'param-list', 'aria-label': '生效参数' }, entries.map(([key, value]) => {
    const base = defaults?.[key];
    const local = base !== undefined && JSON.stringify(base) !== JSON.stringify(value);
    return h('li', { class: local ? 'local' : null, title: local ? `${key}（默认 ${paramValue(base)}）` : key },
      `${L.param(key)} `, h('strong', {}, paramValue(value)));
  }));
}

/** The clause in quotation marks: some clauses in the map are quoted already. */
const clause = (text) => (/^[“"].*[”"]$/s.test(text) ? h('span', { class: 'clause' }, text) : h('q', { class: 'clause' }, text));

function sourceLine(source) {
  if (!source) return null;
  return h('div', { class: 'place-source' },
    h('span', { class: 'mono small' }, source.document ?? ''),
    source.clause ? clause(source.clause) : null);
}

function placeItem(rule, place) {
  return h('li', { class: 'place', dataset: { prefix: place.prefix } },
    h('h3', {}, regionLabel(place),
      place.inherited ? h('span', { class: 'muted small' }, `（沿用 ${regionLabel(place.inherited)}）`) : null),
    sourceLine(place.source),
    place.reading ? h('p', { class: 'place-note' }, h('span', { class: 'tag' }, '解读'), ' ', place.reading.zh) : null,
    place.local_choice ? h('p', { class: 'place-note' }, h('span', { class: 'tag' }, '本地取值'), ' ', place.local_choice.zh) : null,
    paramList(place.params, rule.params));
}

function ruleCard(rule, regions) {
  const places = (rule.in_force ?? []).map((entry) => placeOf(regions, entry));
  return h('article', { class: 'rule-card', dataset: { rule: rule.id }, 'aria-labelledby': `rule-${rule.id}` },
    h('header', {},
      h('h2', { id: `rule-${rule.id}` }, rule.title?.zh ?? rule.id),
      h('span', { class: 'mono small muted' }, rule.id),
      rule.mode && rule.mode !== 'active' ? h('span', { class: 'tag' }, L.mode(rule.mode)) : null),
    places.length === 0
      ? h('p', { class: 'muted' }, '当前未在任何地区生效。')
      : h('ul', { class: 'places' }, places.map((place) => placeItem(rule, place))));
}

/** One line per region of the map that has a rule in force, in the map's order. */
function regionLines(rules, regions) {
  const byPrefix = new Map((regions ?? []).map((r) => [r.prefix, { prefix: r.prefix, name: r.name, rules: [] }]));
  for (const rule of rules) {
    for (const entry of rule.in_force ?? []) {
      if (!byPrefix.has(entry.prefix)) byPrefix.set(entry.prefix, { prefix: entry.prefix, name: entry.name, rules: [] });
      byPrefix.get(entry.prefix).rules.push(rule.title?.zh ?? rule.id);
    }
  }
  const lines = [...byPrefix.values()].filter((r) => r.rules.length > 0);
  if (lines.length === 0) return h('p', { class: 'muted' }, '政策地图中没有任何地区有规则生效。');
  return h('ul', { class: 'region-lines' }, lines.map((r) => h('li', { dataset: { prefix: r.prefix } },
    h('strong', {}, regionLabel(r)), '：', r.rules.join('、'))));
}

export function startRules({ root }) {
  const body = root.querySelector('#rules-body');
  const notice = root.querySelector('#rules-notice');
  let token = 0;

  const say = errorLine(notice);

  async function refresh() {
    const mine = ++token;
    try {
      const answer = await api.get('/v1/rules');
      if (mine !== token) return;
      const rules = answer?.rules ?? [];
      fill(body,
        h('section', { class: 'rules-section', 'aria-labelledby': 'rules-by-region' },
          h('h2', { id: 'rules-by-region' }, '各地区生效规则'),
          regionLines(rules, answer?.regions)),
        h('section', { class: 'rules-section', 'aria-labelledby': 'rules-by-rule' },
          h('h2', { id: 'rules-by-rule' }, '各规则适用地区'),
          h('div', { class: 'rule-cards' }, rules.map((rule) => ruleCard(rule, answer?.regions)))));
      say('');
    } catch (err) {
      if (mine !== token) return;
      say(err instanceof ApiError && err.status === 403 ? err.message : `规则加载失败：${err.message}`);
    }
  }

  return {
    show: refresh,
  };
}
