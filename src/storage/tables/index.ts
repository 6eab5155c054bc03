import type { z } from 'zod';
import { AgencyRow } from './agencies.js';
import { AlertChangeRow, AlertRow } from './alerts.js';
import { EnterpriseRow } from './enterprises.js';
import { EventRow } from './events.js';
import { OfficerRow } from './officers.js';
import { TicketChangeRow, TicketRow } from './tickets.js';

/**
 * One module per ClickHouse table, in the manner of Trigger.dev's ClickHouse package
 * (internal-packages/clickhouse/src/taskRuns.ts …): each holds the row as a zod schema, its columns, how a
 * domain object becomes a row and back, and the named queries (`namedQuery`, ./query.ts) with typed
 * parameters whose result rows are validated, not cast.
 *
 * Why here, under src/storage/:
 * - A table is storage's knowledge. Its columns are created by ../migrations.ts and read through ../port.ts;
 *   the schema that reads them sits beside both, so a migration and its reader change in one folder (and
 *   tests/storage.tables.test.ts fails when they disagree).
 * - The domain folders (alerts/, hotline/, rules/, reference/, timeline/) keep the behaviour: locks,
 *   lifecycles, cursors, audit, evaluation. They ask these modules for rows. A table module imports only
 *   model types and input schemas (ingest/schema, alerts/model, hotline/model), never a store or a route,
 *   so the dependency points one way and adds no import cycle.
 * - A table's history table (alert_changes, ticket_changes) lives in its table's module: they are written
 *   together and read for the same thing, as Trigger.dev keeps task runs and their payloads in one file.
 *
 * Where to add a table: a migration (never edit an applied one), a module here, and its row schema below.
 */
export const TABLE_ROWS: Readonly<Record<string, z.ZodObject>> = {
  events: EventRow,
  enterprises: EnterpriseRow,
  agencies: AgencyRow,
  officers: OfficerRow,
  alerts: AlertRow,
  alert_changes: AlertChangeRow,
  tickets: TicketRow,
  ticket_changes: TicketChangeRow,
};
