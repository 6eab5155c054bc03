import { Hono } from 'hono';
import { z } from 'zod';
import { Agency, Enterprise, Event } from '../ingest/index.js';

/**
 * OpenAPI 3.1 for the public contract. Component schemas are generated from
 * the same zod schemas that validate requests, so the two cannot disagree.
 */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

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

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const batchBody = (ref: string) => ({
  required: true,
  content: {
    'application/json': { schema: { oneOf: [{ $ref: ref }, { type: 'array', items: { $ref: ref } }] } },
    'application/x-ndjson': { schema: { $ref: ref }, description: 'One item per line' },
  },
});

const batchErrors = {
  400: errorResponse('Malformed JSON or invalid items; lists every problem; nothing was stored'),
  413: errorResponse('Body or item count over the limit'),
  415: errorResponse('Content-Type is not JSON or NDJSON'),
  503: errorResponse('Redis or ClickHouse unavailable; nothing was accepted, retry'),
};

export function openApiDocument(limits: { maxItems: number; maxBytes: number }) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Qingjian 清检 API',
      version: '1',
      description: 'Real-time monitoring of administrative inspections of companies. ' +
        `Batches carry at most ${limits.maxItems} items and ${limits.maxBytes} bytes.`,
    },
    paths: {
      '/v1/events': {
        post: {
          summary: 'Submit events (one, a JSON array, or NDJSON)',
          description: 'Answers 202 once every event is durably queued. The same id submitted again is reported as a duplicate and stored once.',
          requestBody: batchBody('#/components/schemas/Event'),
          responses: {
            202: { description: 'Queued', content: { 'application/json': { schema: { $ref: '#/components/schemas/Acceptance' } } } },
            ...batchErrors,
          },
        },
      },
      '/v1/enterprises': {
        put: {
          summary: 'Upsert companies (reference data)',
          requestBody: batchBody('#/components/schemas/Enterprise'),
          responses: { 200: { description: 'Stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Upserted' } } } }, ...batchErrors },
        },
      },
      '/v1/agencies': {
        put: {
          summary: 'Upsert agencies (reference data)',
          requestBody: batchBody('#/components/schemas/Agency'),
          responses: { 200: { description: 'Stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Upserted' } } } }, ...batchErrors },
        },
      },
      '/v1/enterprises/{id}': {
        get: {
          summary: 'One company',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'Found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Enterprise' } } } }, 404: errorResponse('Unknown company') },
        },
      },
      '/v1/agencies/{id}': {
        get: {
          summary: 'One agency',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'Found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Agency' } } } }, 404: errorResponse('Unknown agency') },
        },
      },
      '/v1/enterprises/{id}/timeline': {
        get: {
          summary: "A company's events in event-time order (its public inspection record)",
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Unified social credit code' },
            { name: 'from', in: 'query', schema: { type: 'string' }, description: 'Inclusive; RFC 3339 or YYYY-MM-DD (Asia/Shanghai)' },
            { name: 'to', in: 'query', schema: { type: 'string' }, description: 'Exclusive; RFC 3339 or YYYY-MM-DD (Asia/Shanghai)' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'next_cursor of the previous page' },
          ],
          responses: {
            200: { description: 'One page', content: { 'application/json': { schema: { $ref: '#/components/schemas/TimelinePage' } } } },
            400: errorResponse('Bad id or parameters'),
          },
        },
      },
      '/healthz': { get: { summary: 'The process is up', responses: { 200: { description: 'Up' } } } },
      '/readyz': { get: { summary: 'Redis and ClickHouse reachable, migrations applied', responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready; names the failing checks' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: {
        Event: schema(Event),
        Enterprise: schema(Enterprise),
        Agency: schema(Agency),
        FieldError,
        Error: ErrorBody,
        Acceptance: {
          type: 'object',
          required: ['accepted', 'duplicates', 'ids', 'duplicate_ids'],
          properties: {
            accepted: { type: 'integer', description: 'Events queued by this request' },
            duplicates: { type: 'integer', description: 'Items whose id was already accepted' },
            ids: { type: 'array', items: { type: 'string' } },
            duplicate_ids: { type: 'array', items: { type: 'string' } },
          },
        },
        Upserted: { type: 'object', required: ['upserted'], properties: { upserted: { type: 'integer' } } },
        TimelinePage: {
          type: 'object',
          required: ['enterprise_id', 'items', 'next_cursor'],
          properties: {
            enterprise_id: { type: 'string' },
            items: { type: 'array', items: { $ref: '#/components/schemas/Event' } },
            next_cursor: { type: ['string', 'null'] },
          },
        },
      },
    },
  };
}

export function openApiRoutes(limits: { maxItems: number; maxBytes: number }): Hono {
  const document = openApiDocument(limits);
  return new Hono().get('/openapi.json', (c) => c.json(document));
}
