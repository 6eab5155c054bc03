import type { z } from 'zod';
import { AgencyRow } from './agencies.js';
import { AlertChangeRow, AlertRow } from './alerts.js';
import { ApiTokenRow } from './api-tokens.js';
import { AuditRow } from './audit-log.js';
import { EnterpriseRow } from './enterprises.js';
import { EventRow } from './events.js';
import { OfficerRow } from './officers.js';
import { PlanCheckRow } from './plan-checks.js';
import { PlanSuggestionRow } from './plan-suggestions.js';
import { SilenceRow } from './silences.js';
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
 * - The domain folders (alerts/, audit/, auth/, hotline/, plans/, rules/, reference/, timeline/) keep the
 *   behaviour: locks, lifecycles, caches, cursors, audit, evaluation. They ask these modules for rows and hold
 *   no SQL (tests/architecture.test.ts). A table module imports only model types and input schemas
 *   (ingest/schema, alerts/model, audit/model, auth/roles, hotline/model, plans/model), never a store or a
 *   route, so the dependency points one way and adds no import cycle.
 * - A table's history table (alert_changes, ticket_changes) lives in its table's module: they are written
 *   together and read for the same thing, as Trigger.dev keeps task runs and their payloads in one file.
 *
 * Where to add a table: a migration (never edit an applied one), a module here, and its row schema below
 * (tests/support/table-modules.ts fails for a migrated table missing here).
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
  silences: SilenceRow,
  audit_log: AuditRow,
  api_tokens: ApiTokenRow,
  plan_checks: PlanCheckRow,
  plan_suggestions: PlanSuggestionRow,
};
