import type { OpenAPIHono } from '@hono/zod-openapi';
import { components, defineRoute } from './route.js';

/**
 * The OpenAPI 3.1 document at /openapi.json. Paths, parameters and request
 * bodies come from the routes' own declarations (src/http/route.ts), so the
 * document and the validation cannot disagree; each route group adds the
 * shapes of its answers. What is written here belongs to no route: the title,
 * the security scheme, the tags, and the error body every route shares.
 */
const TAGS = [
  { name: 'ingest', description: 'Events and reference data from the platforms' },
  { name: 'alerts', description: 'Alerts, their history and people\'s actions; silences; the live feed' },
  { name: 'hotline', description: '12345 hotline tickets' },
  { name: 'rules', description: 'The rule set in force' },
  { name: 'plans', description: 'Inspection plans: the check before the visit, the coordination of plans (计划统筹) and the weekly review of plans carried out' },
  { name: 'statistics', description: "The justice bureau's statistics, the same the Grafana boards run" },
  { name: 'admin', description: 'Tokens and the audit log' },
  { name: 'operations', description: 'Health, metrics and this document' },
];

const FieldError = {
  type: 'object',
  required: ['index', 'field', 'message'],
  properties: {
    index: { type: ['integer', 'null'], description: 'Position of the item in the batch (null for request-level errors)' },
    field: { type: 'string', description: 'Dotted path of the bad field, e.g. officer_ids.0' },
    message: { type: 'string' },
  },
};

const ErrorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'Machine-readable code, e.g. validation_failed' },
    message: { type: 'string' },
    errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
  },
};

const COMPONENTS = { FieldError, Error: ErrorBody };

/** Serves /openapi.json for every route mounted on `app` so far (call it last). */
export function serveOpenApi(app: OpenAPIHono, limits: { maxItems: number; maxBytes: number }): void {
  components(app, COMPONENTS);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http', scheme: 'bearer', description: 'An API token (qjt_…): `qingjian tokens create`, or POST /v1/tokens',
  });
  const route = defineRoute({
    method: 'get', path: '/openapi.json', access: 'public', tags: ['operations'],
    summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } },
  });
  let document: object | undefined;
  app.openapi(route, (c) => c.json(document ??= app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Qingjian 清检 API',
      version: '1',
      description: 'Real-time monitoring of administrative inspections of companies. ' +
        `Batches carry at most ${limits.maxItems} items and ${limits.maxBytes} bytes.`,
    },
    tags: TAGS,
  })));
}
