/**
 * Company search for the filters: typing part of a name (or a credit code)
 * offers matches from the reference data (GET /v1/enterprises?q=); the filter
 * uses the company's credit code, whichever of the two was typed.
 */
import { api, query } from './api.js';
import { h } from './dom.js';

const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** Offers matching companies under the input as it is typed (a <datalist>: name shown, credit code as value). */
export function enterpriseSearch(input, list) {
  let timer = null;
  let asked = '';
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2 || text === asked || CREDIT_CODE.test(text)) return;
    timer = setTimeout(async () => {
      asked = text;
      try {
        const { items = [] } = await api.get(`/v1/enterprises${query({ q: text, limit: 20 })}`);
        list.replaceChildren(...items.map((e) => h('option', { value: e.id, label: e.name }, e.name)));
      } catch { /* no suggestions; a typed credit code still filters */ }
    }, 250);
  });
}

/** The credit code the input stands for: a code as typed, or the code of the one offered company with that name. */
export function enterpriseId(input, list) {
  const text = input.value.trim();
  if (!text || CREDIT_CODE.test(text.toUpperCase())) return text.toUpperCase();
  const match = [...list.options].find((o) => o.label === text || o.textContent === text);
  return match ? match.value : text;
}
