import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStorage } from '../src/storage/embedded.js';
import { literal, literalList } from '../src/storage/tables/query.js';
import { describeTableModules } from './support/table-modules.js';

// The table modules against the embedded engine (chdb in this process).
describeTableModules('embedded (chdb)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qingjian-tables-'));
  const storage = createEmbeddedStorage(dir, 'default');
  return {
    storage,
    async teardown() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('a value written into the SQL as a literal', () => {
  const HEX = /^[0-9a-f]{32}$/;
  it('is quoted when every character is of the safe set, and refused otherwise, quotes and backslashes above all', () => {
    expect(literal('0123456789abcdef0123456789abcdef', HEX)).toBe("'0123456789abcdef0123456789abcdef'");
    expect(() => literal("0123456789abcdef0123456789abcde'", HEX)).toThrow(/not a literal/);
    expect(() => literal('0123456789ABCDEF0123456789abcdef', HEX)).toThrow(/not a literal/);
    // A careless pattern does not let a quote or a backslash through.
    expect(() => literal("a' OR '1", /^.*$/)).toThrow(/not a literal/);
    expect(() => literal('a\\', /^.*$/)).toThrow(/not a literal/);
  });

  it('makes a list only when every value is safe: one value of another shape means the caller binds them all', () => {
    expect(literalList(['ab', 'cd'], /^[a-d]+$/)).toBe("['ab', 'cd']");
    expect(literalList([], /^[a-d]+$/)).toBe('[]');
    expect(literalList(['ab', "c' OR '1"], /^.*$/)).toBeNull();
    expect(literalList(['ab', 'ce'], /^[a-d]+$/)).toBeNull();
    // A list the engine's max_query_size (256 KiB) could refuse is bound too: a backtest reads thousands of companies.
    expect(literalList(Array.from({ length: 2_000 }, () => 'abcdabcdabcdabcdab'), /^[a-d]+$/)).not.toBeNull();
    expect(literalList(Array.from({ length: 20_000 }, () => 'abcdabcdabcdabcdab'), /^[a-d]+$/)).toBeNull();
  });
});
