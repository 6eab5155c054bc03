/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015.
 * 18 characters from a 31-symbol alphabet (no I, O, S, V, Z); the last one is a
 * check character over the first 17, weighted by 3^i mod 31.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** A credit code's shape (its check character aside): 18 characters, none a quote or a backslash. */
export const CREDIT_CODE_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** The check character for the first 17 characters of a code. */
export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  return ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Why a string is not a valid credit code, or null when it is. */
export function creditCodeProblem(code: string): string | null {
  if (code.length !== 18) return 'must be 18 characters (unified social credit code, GB 32100-2015)';
  if (!CREDIT_CODE_SHAPE.test(code)) return 'has characters outside the GB 32100-2015 alphabet or a non-numeric division code';
  if (creditCodeCheckChar(code.slice(0, 17)) !== code[17]) return 'check character does not match (GB 32100-2015)';
  return null;
}

export const isCreditCode = (code: string): boolean => creditCodeProblem(code) === null;
