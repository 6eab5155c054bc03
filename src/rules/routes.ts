import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import type { RuleRegistry } from './registry.js';

/**
 * The live rule set, read-only: which rules and versions are in force, the
 * parameters per region, and the last failed reload (a bad edit keeps the
 * last good set, and this is where people see why).
 */
export function ruleRoutes(registry: RuleRegistry): Hono {
  const app = new Hono();
  app.get('/v1/rules', (c) => {
    const set = registry.current();
    return c.json({ ...registry.status(), rules: set.rules.map((r) => summary(r.spec)) });
  });
  app.get('/v1/rules/:id', async (c) => {
    const rule = registry.current().rules.find((r) => r.spec.id === c.req.param('id'));
    if (!rule) return c.json({ error: 'not_found', message: `no rule ${c.req.param('id')}` }, 404);
    return c.json({ ...rule.spec, text: await readFile(rule.file, 'utf8').catch(() => null) });
  });
  return app;
}

const summary = (spec: ReturnType<RuleRegistry['current']>['rules'][number]['spec']) => ({
  id: spec.id,
  version: spec.version,
  kind: spec.kind,
  mode: spec.mode,
  severity: spec.severity,
  channels: spec.channels,
  title: spec.title,
  description: spec.description ?? null,
  source: spec.source,
  params: spec.params,
  overrides: spec.overrides,
});
