/**
 * A tiny element builder: every text goes in as text (never as HTML), so
 * nothing an event or an API answer carries can become markup.
 *
 *   h('button', { class: 'primary', onclick: fn, disabled: true }, '确认')
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A definition list of [label, value] pairs, skipping empty values. */
export function facts(pairs, className = 'facts') {
  return h('dl', { class: className }, pairs
    .filter(([, value]) => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0))
    .map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))));
}

let ids = 0;
export const uid = (prefix = 'id') => `${prefix}-${++ids}`;

/** Announces a short text to screen readers (the page has one polite live region). */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A separate task, so the same text twice is read twice.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A view's error line: `say(text)` shows it, `say('')` hides it. */
export function errorLine(notice) {
  return (text) => {
    notice.textContent = text;
    notice.hidden = !text;
    notice.dataset.kind = 'error';
  };
}
