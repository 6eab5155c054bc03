import { describe, expect, it } from 'vitest';
import { creditCodeCheckChar, creditCodeProblem } from '../src/ingest/credit-code.js';

describe('unified social credit code (GB 32100-2015)', () => {
  it('accepts published codes', () => {
    // Codes printed on real business licences.
    expect(creditCodeProblem('91350100M000100Y43')).toBeNull();
    expect(creditCodeProblem('91110000802100433B')).toBeNull();
  });

  it('computes the check character over the first 17', () => {
    expect(creditCodeCheckChar('91350100M000100Y4')).toBe('3');
    expect(creditCodeCheckChar('91110000802100433')).toBe('B');
  });

  it.each([
    ['91350100M000100Y44', /check character/],
    ['91350100M000100Y4', /18 characters/],
    ['91350100M000100Y433', /18 characters/],
    ['91350100M000100I43', /alphabet/], // I is not in the alphabet
    ['91350100m000100Y43', /alphabet/], // lower case
    ['913501A0M000100Y43', /division code/],
    ['', /18 characters/],
  ])('rejects %s', (code, why) => {
    expect(creditCodeProblem(code)).toMatch(why);
  });

  it('catches every single-character substitution', () => {
    const valid = '91350100M000100Y43';
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
    for (let i = 0; i < 18; i++) {
      for (const ch of alphabet) {
        if (ch === valid[i]) continue;
        const mutated = valid.slice(0, i) + ch + valid.slice(i + 1);
        expect(creditCodeProblem(mutated), mutated).not.toBeNull();
      }
    }
  });
});
