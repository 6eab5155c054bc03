import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { AlertListParams } from '../alerts/routes.js';
import { decodeCursor as decodeAlertCursor, type AlertStore } from '../alerts/store.js';
import { jurisdictionOf, narrowRegion } from '../auth/index.js';
import { calendarDate } from '../calendar/index.js';
import { TicketListParams } from '../hotline/routes.js';
import { decodeCursor as decodeTicketCursor, type TicketStore } from '../hotline/store.js';
import { firstValues } from '../http/query.js';
import { defineRoute, failure, requestErrors, routeGroup } from '../http/route.js';
import type { OfficerStore } from '../reference/officer-store.js';
import type { ReferenceStore } from '../reference/store.js';
import { alertTable, ticketTable } from './rows.js';
import { EXPORT_FORMATS, tableResponse, type ExportFormat } from './table.js';

/** An export is for a desk, not a data dump: past this many rows the caller narrows the filters. */
export const EXPORT_MAX_ROWS = 20_000;
const PAGE = 1_000;

const Format = z.object({
  format: z.enum(EXPORT_FORMATS, { message: `must be one of ${EXPORT_FORMATS.join(', ')}` }).default('csv'),
});
const AlertExportParams = AlertListParams.omit({ limit: true, cursor: true }).extend(Format.shape).strict();
const TicketExportParams = TicketListParams.omit({ limit: true, cursor: true }).extend(Format.shape).strict();

const file = (description: string) => ({
  description,
  content: {
    'text/csv': { schema: z.string() },
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string().meta({ format: 'binary' }) },
  },
});

const exportAlerts = defineRoute({
  method: 'get', path: '/v1/exports/alerts', access: ['alerts:read'], tags: ['alerts'],
  summary: "The alert list as CSV or XLSX: the list's filters, inside the caller's jurisdiction, names beside codes",
  request: { query: firstValues(AlertExportParams) },
  responses: { 200: file('The file'), 400: failure('Bad parameters, or more rows than an export holds (named in errors)') },
});

const exportTickets = defineRoute({
  method: 'get', path: '/v1/exports/tickets', access: ['tickets:read'], tags: ['hotline'],
  summary: "The 12345 ticket list as CSV or XLSX: the queue's filters, inside the caller's jurisdiction",
  request: { query: firstValues(TicketExportParams) },
  responses: { 200: file('The file'), 400: failure('Bad parameters, or more rows than an export holds (named in errors)') },
});

/** Reads every page of a list; null when it holds more than an export may. */
async function readAll<T, C>(page: (after: C | undefined) => Promise<{ items: T[]; next_cursor: string | null }>, decode: (c: string) => C | null) {
  const items: T[] = [];
  let after: C | undefined;
  for (;;) {
    const { items: got, next_cursor } = await page(after);
    items.push(...got);
    if (items.length > EXPORT_MAX_ROWS) return null;
    if (!next_cursor) return items;
    after = decode(next_cursor) ?? undefined;
  }
}

const tooMany = { error: 'invalid_request', message: 'too many rows to export',
  errors: [{ field: 'from', message: `more than ${EXPORT_MAX_ROWS} rows match: narrow the filters (from, to, region)` }] };

/** CSV/XLSX of the alert list and the ticket list, with the same filters and jurisdiction as the lists. */
export function exportRoutes(stores: { alerts: AlertStore; tickets: TicketStore; reference: ReferenceStore; officers: OfficerStore }): OpenAPIHono {
  const app = routeGroup();
  const stamp = () => calendarDate(Date.now()).replaceAll('-', '');

  app.openapi(exportAlerts, async (c) => {
    const { format, ...filters } = c.req.valid('query');
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    const alerts = region === null ? [] : await readAll(
      (after) => stores.alerts.list({ ...filters, region }, PAGE, after), decodeAlertCursor);
    if (alerts === null) return c.json(tooMany, 400);
    return tableResponse(await alertTable(alerts, stores.reference, stores.officers), format as ExportFormat, stamp());
  }, requestErrors('bad export request'));

  app.openapi(exportTickets, async (c) => {
    const { format, ...filters } = c.req.valid('query');
    const region = narrowRegion(filters.region, jurisdictionOf(c));
    const tickets = region === null ? [] : await readAll(
      (after) => stores.tickets.list({ ...filters, region }, PAGE, after), decodeTicketCursor);
    if (tickets === null) return c.json(tooMany, 400);
    return tableResponse(await ticketTable(tickets, stores.reference), format as ExportFormat, stamp());
  }, requestErrors('bad export request'));

  return app;
}
