import { readFile } from 'node:fs/promises';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { defineRoute, failure, json, routeGroup } from '../http/route.js';
import { channelsOf } from './compile.js';
import type { PolicyMap } from './policy-map.js';
import type { RuleRegistry } from './registry.js';

const listRules = defineRoute({
  method: 'get', path: '/v1/rules', access: ['rules:read'], tags: ['rules'],
  summary: 'The rule set in force: digest, load time, each rule with its parameters and overrides, and the last failed reload',
  responses: { 200: json('The rule set', { type: 'object' }) },
});

const getRule = defineRoute({
  method: 'get', path: '/v1/rules/{id}', access: ['rules:read'], tags: ['rules'],
  summary: 'One rule as loaded, with its YAML text (schema: rules/schema.json)',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: json('The rule', { type: 'object' }), 404: failure('Unknown rule') },
});

/**
 * The live rule set, read-only: which rules and versions are in force, the
 * parameters per region, and the last failed reload (a bad edit keeps the
 * last good set, and this is where people see why).
 */
export function ruleRoutes(registry: RuleRegistry): OpenAPIHono {
  const app = routeGroup();
  app.openapi(listRules, (c) => {
    const set = registry.current();
    return c.json({ ...registry.status(), rules: set.rules.map((r) => summary(r, set.policy)), regions: set.policy?.regions ?? null });
  });
  app.openapi(getRule, async (c) => {
    const rule = registry.current().rules.find((r) => r.spec.id === c.req.param('id'));
    if (!rule) return c.json({ error: 'not_found', message: `no rule ${c.req.param('id')}` }, 404);
    return c.json({ ...rule.spec, in_force: inForce(rule, registry.current().policy), text: await readFile(rule.file, 'utf8').catch(() => null) });
  });
  return app;
}

type Rule = ReturnType<RuleRegistry['current']>['rules'][number];

/**
 * Where a rule holds: each prefix of the policy map that places it, with the clause, reading and local choice of
 * the entry that names it there (a shorter prefix's, `inherited_from`, when the region only inherits it; the
 * rule's own clause for complaint-received, placed by `complaints_to`), and the parameters there ('*': everywhere).
 */
function inForce(rule: Rule, policy: PolicyMap | null) {
  if (!rule.placement || !policy) return [{ prefix: '*', name: '全部地区', params: rule.spec.params }];
  return rule.placement.map(({ prefix, params }) => {
    const { entries } = policy.forRegion(prefix);
    const region = entries.find((r) => r.prefix === prefix)!;
    const naming = entries.filter((r) => r.rules[rule.spec.id]).at(-1);
    const own = naming?.rules[rule.spec.id];
    return {
      prefix, name: region.name, inherited_from: naming && naming.prefix !== prefix ? naming.prefix : null,
      source: own?.source ?? naming?.source ?? rule.spec.source, reading: own?.reading ?? null, local_choice: own?.local_choice ?? null,
      params: { ...rule.spec.params, ...params },
    };
  });
}

const summary = ({ spec, ...rule }: Rule, policy: PolicyMap | null) => ({
  id: spec.id,
  version: spec.version,
  kind: spec.kind,
  mode: spec.mode,
  severity: spec.severity,
  channels: channelsOf(spec),
  title: spec.title,
  description: spec.description ?? null,
  source: spec.source,
  params: spec.params,
  in_force: inForce({ spec, ...rule }, policy),
});
