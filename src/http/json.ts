/**
 * Request bodies as JSON, at a bounded cost. JSON.parse and the validation
 * after it walk a value recursively, so a few megabytes of `[[[[…]]]]` would
 * hold the event loop for a second: the nesting is measured first, in one pass
 * over the text, and a body nested deeper than any request of this API is
 * refused before it is parsed. Error bodies list a bounded number of problems,
 * each cut short, so a bad batch cannot make the answer larger than the request.
 */

/** Deeper than any request: an event batch is 4 levels (array, event, location or list, item). */
export const MAX_JSON_DEPTH = 32;

/** Whether brackets nest deeper than `max` (outside strings); malformed text is left to JSON.parse. */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Where the string opened at `open` ends (the text's length if it does not): at the next quote that an even run of
 * backslashes, or none, precedes. indexOf skips the string's characters natively: most of a body is strings, and
 * reading them one by one in JS, this check took 223 ms of the main thread in a bench:rules profile, 143 ms since.
 */
function closingQuote(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return text.length;
}

export type ParsedJson =
  | { ok: true; value: unknown }
  | { ok: false; error: 'too_deeply_nested' | 'malformed_json'; message: string };

export const tooDeep = { ok: false, error: 'too_deeply_nested', message: `the body nests deeper than ${MAX_JSON_DEPTH} levels` } as const;

export function parseJson(text: string): ParsedJson {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) return tooDeep;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: 'malformed_json', message: `body is not valid JSON: ${clip((err as Error).message)}` };
  }
}

/** At most this many problems are listed in an error body. */
export const MAX_LISTED_ERRORS = 100;
const MAX_CHARS = 200;

const clip = (text: string) => (text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text);

/**
 * The problems an error body lists: the first MAX_LISTED_ERRORS, with fields
 * (an unknown key is named as sent) and messages cut short; `errors_omitted`
 * says how many more there were.
 */
export function listed<T extends { field: string; message: string }>(errors: readonly T[]): { errors: T[]; errors_omitted?: number } {
  const shown = errors.slice(0, MAX_LISTED_ERRORS).map((e) => ({ ...e, field: clip(e.field), message: clip(e.message) }));
  return errors.length > MAX_LISTED_ERRORS ? { errors: shown, errors_omitted: errors.length - MAX_LISTED_ERRORS } : { errors: shown };
}
