import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/storage/migrations.js';

/**
 * Structure the code keeps (dpdm, the tool CI runs here, reads the imports).
 * Type-only imports are left out (`transform`): they vanish at run time.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

const imports = (glob: string) => parseDependencyTree(glob, { context: root, cwd: root, transform: true, skipDynamicImports: false });

async function cycles(glob: string): Promise<string[][]> {
  const tree = await imports(glob);
  expect(Object.keys(tree).length).toBeGreaterThan(1);
  // A cycle is reported from wherever the walk entered it: compare its members.
  return parseCircular(tree).map((cycle) => [...cycle].sort());
}

describe('imports', () => {
  it('the check finds a cycle where there is one', async () => {
    expect(await cycles('tests/fixtures/import-cycle/*.ts')).toEqual([['tests/fixtures/import-cycle/a.ts', 'tests/fixtures/import-cycle/b.ts']]);
  });

  // No module imports itself back, so load order never decides what a module sees.
  it('src/ has no import cycle', async () => {
    expect(await cycles('src/**/*.ts')).toEqual([]);
  });

  // The live pipeline shares the engine with the simulator, never the simulator's or a rule kind's internals. The
  // plan check (src/plans/checks.ts, check.ts) is the one other reader: it asks a draft plan the questions the kinds
  // ask a visit (the period's days, the visits counted, the plans standing), with the same code, so a plan it
  // passes is one the rules pass.
  it('the simulator serves the rule tests alone, and the rule kinds the engine and the plan check alone', async () => {
    const tree = await imports('src/**/*.ts');
    const importers = (target: RegExp) => Object.entries(tree)
      .filter(([, deps]) => deps?.some((d) => d.id !== null && target.test(d.id)))
      .map(([file]) => file)
      .filter((file) => !target.test(file))
      .sort();
    expect(importers(/^src\/rules\/simulate\.ts$/)).toEqual(['src/rules/testing.ts']);
    expect(importers(/^src\/rules\/kinds\//)).toEqual(['src/plans/check.ts', 'src/rules/engine.ts']);
  });
});

/** Every table the migrations create. */
const TABLES = MIGRATIONS.flatMap((m) => m.statements.flatMap((sql) => [...sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((match) => match[1]!)));

/**
 * Where a text reads or writes ClickHouse around the table modules: a raw query (`storage.query<T>` is a cast),
 * a raw insert into a table, or SQL naming a table.
 */
function strayTableAccess(text: string, tables: readonly string[]): string[] {
  const names = tables.join('|');
  const patterns = [
    /\.query\s*</g,
    /\bstorage\.query\s*\(/g,
    new RegExp(`\\.insert\\(\\s*['"\`](?:${names})['"\`]`, 'g'),
    new RegExp(`\\b(?:FROM|INTO)\\s+(?:${names})\\b`, 'g'),
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[0]));
}

const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
  const path = join(dir, entry.name);
  if (entry.isDirectory()) return sources(path);
  return entry.name.endsWith('.ts') ? [path] : [];
});

describe('tables', () => {
  it('the migrations create the tables the check looks for', () => {
    expect(TABLES).toEqual(expect.arrayContaining(['events', 'alerts', 'silences', 'audit_log', 'api_tokens', 'plan_checks', 'plan_suggestions']));
  });

  it('the check finds a raw query, a raw insert and SQL naming a table', () => {
    expect(strayTableAccess([
      "const rows = await storage.query<Row>('SELECT 1');",
      'await storage.query(sql);',
      "await storage.insert('api_tokens', rows);",
      'SELECT id FROM silences FINAL',
      'INSERT INTO audit_log VALUES',
      'what they read from events, and INTO events_local', // prose and other names are not SQL on a table
    ].join('\n'), TABLES)).toEqual([
      '.query<', 'storage.query(', ".insert('api_tokens'", 'FROM silences', 'INTO audit_log',
    ]);
  });

  // A table is read and written through its module in src/storage/tables (named queries whose rows are validated,
  // insert helpers), so what the code knows about a table has one home. src/stats is the one other reader: its
  // statistics are SQL written once for the API and Grafana alike (docs/architecture.md).
  it('no file outside src/storage and src/stats queries ClickHouse or names a table in SQL', () => {
    const strays = sources(join(root, 'src'))
      .map((file) => relative(root, file))
      .filter((file) => !file.startsWith('src/storage/') && !file.startsWith('src/stats/'))
      .flatMap((file) => strayTableAccess(readFileSync(join(root, file), 'utf8'), TABLES).map((found) => `${file}: ${found}`));
    expect(strays).toEqual([]);
  });
});
