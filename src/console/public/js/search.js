/**
 * Searches for the filters: typing part of a company's name (or a credit code)
 * offers matching companies from the reference data (GET /v1/enterprises?q=),
 * typing part of an officer's name or number offers officers (GET
 * /v1/officers?q=); the filter uses the credit code or the officer's number,
 * whichever of the two was typed.
 */
import { api, query } from './api.js';
import { h } from './dom.js';

const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** Offers matches under the input as it is typed (a <datalist>: the name shown, the id as value); `isId` text is not searched. */
function offer(input, list, path, isId) {
  let timer = null;
  let asked = '';
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2 || text === asked || isId(text)) return;
    timer = setTimeout(async () => {
      asked = text;
      try {
        const { items = [] } = await api.get(`${path}${query({ q: text, limit: 20 })}`);
        list.replaceChildren(...items.map((e) => h('option', { value: e.id, label: e.name }, e.name)));
      } catch { /* no suggestions; a typed id still filters */ }
    }, 250);
  });
}

/** The id of the one offered match with the typed name, or null. */
const offeredId = (text, list) => [...list.options].find((o) => o.label === text || o.textContent === text)?.value ?? null;

export const enterpriseSearch = (input, list) => offer(input, list, '/v1/enterprises', (text) => CREDIT_CODE.test(text));

/** The credit code the input stands for: a code as typed, or the code of the one offered company with that name. */
export function enterpriseId(input, list) {
  const text = input.value.trim();
  if (!text || CREDIT_CODE.test(text.toUpperCase())) return text.toUpperCase();
  return offeredId(text, list) ?? text;
}

// A number is what the officer datalist puts in the input when an offer is picked: it is not searched again.
export const officerSearch = (input, list) => offer(input, list, '/v1/officers', (text) => [...list.options].some((o) => o.value === text));

/** The officer's number the input stands for: the number of the offered officer with that name, else the text as typed. */
export function officerId(input, list) {
  const text = input.value.trim();
  return text ? offeredId(text, list) ?? text : '';
}
