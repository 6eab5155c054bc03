import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

/**
 * Structure the code keeps: no module of src/ imports itself back, so load
 * order never decides what a module sees (dpdm, the tool CI runs here).
 * Type-only imports are left out (`transform`): they vanish at run time.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

async function cycles(glob: string): Promise<string[][]> {
  const tree = await parseDependencyTree(glob, { context: root, cwd: root, transform: true, skipDynamicImports: false });
  expect(Object.keys(tree).length).toBeGreaterThan(1);
  // A cycle is reported from wherever the walk entered it: compare its members.
  return parseCircular(tree).map((cycle) => [...cycle].sort());
}

describe('imports', () => {
  it('the check finds a cycle where there is one', async () => {
    expect(await cycles('tests/fixtures/import-cycle/*.ts')).toEqual([['tests/fixtures/import-cycle/a.ts', 'tests/fixtures/import-cycle/b.ts']]);
  });

  it('src/ has no import cycle', async () => {
    expect(await cycles('src/**/*.ts')).toEqual([]);
  });
});
