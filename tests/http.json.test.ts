import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from '../src/http/json.js';

/** How deep a parsed value nests: what the check must say of its text without parsing it. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** The check read character by character, as it was first written: the oracle for text that is not JSON. */
function byCharacter(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > max) return true;
    } else if (c === ']' || c === '}') depth--;
  }
  return false;
}

// Strings full of what the check must not count: brackets, quotes and runs of backslashes.
const awkward = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '中'), maxLength: 12 });
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, awkward, fc.integer(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(awkward, tie('value'), { maxKeys: 4 }),
})).value;

describe('nestedDeeperThan: the nesting of a body, measured before it is parsed', () => {
  it('agrees with the depth of the parsed value, at every limit around it, whatever the strings hold', () => {
    fc.assert(fc.property(json, (value) => {
      const text = JSON.stringify(value);
      const depth = depthOf(value);
      for (const max of new Set([Math.max(0, depth - 1), depth, depth + 1])) expect(nestedDeeperThan(text, max), `${text} at ${max}`).toBe(depth > max);
    }), { numRuns: 2_000 });
  });

  it('answers as a character-by-character reading does for any text, malformed and unterminated included', () => {
    // Few symbols, so that runs of backslashes before quotes and brackets after them are common.
    const text = fc.string({ unit: fc.constantFrom('[', '{', ']', '"', '\\'), maxLength: 30 });
    fc.assert(fc.property(text, fc.integer({ min: 0, max: 4 }), (t, max) => {
      expect(nestedDeeperThan(t, max), `${t} at ${max}`).toBe(byCharacter(t, max));
    }), { numRuns: 5_000 });
  });

  it('skips a string that ends in escaped backslashes, and stays inside one whose quote is escaped', () => {
    expect(nestedDeeperThan(String.raw`["a\\"]`, 1)).toBe(false);
    expect(nestedDeeperThan(String.raw`["a\\", [[1]]]`, 2)).toBe(true);
    expect(nestedDeeperThan(String.raw`["a\", [[1]]]`, 1)).toBe(false);
    expect(nestedDeeperThan(String.raw`["\\\\\"[[[", [1]]`, 1)).toBe(true);
    expect(nestedDeeperThan(String.raw`["\\\\\"[[[", [1]]`, 2)).toBe(false);
  });
});
