import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

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
