import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../../src/alerts/model.js';
import type { AuditEntry } from '../../src/audit/model.js';
import { complaintTicketId, type Ticket, type TicketChange } from '../../src/hotline/model.js';
import { Enterprise, Event } from '../../src/ingest/schema.js';
import type { PlanCheck, PlanUnderCheck } from '../../src/plans/model.js';
import { fromEvent, fromStoredRow } from '../../src/rules/events.js';
import { migrate } from '../../src/storage/migrations.js';
import type { Storage } from '../../src/storage/port.js';
import { agenciesInRegion, agencyNamesAndRegions, agencyRow, agencySearch, insertAgencies } from '../../src/storage/tables/agencies.js';
import {
  alertChangeOf, alertChangeRow, alertHistory, alertOf, alertPage, alertRow, alertsByIds, insertAlertChanges, insertAlerts,
} from '../../src/storage/tables/alerts.js';
import { allApiTokens, insertApiTokens, type ApiTokenRow } from '../../src/storage/tables/api-tokens.js';
import { auditEntryOf, auditPage, auditRow, insertAuditEntries } from '../../src/storage/tables/audit-log.js';
import { TABLE_ROWS } from '../../src/storage/tables/index.js';
import { companyRows, enterpriseById, enterpriseRow, enterpriseSearch, insertEnterprises } from '../../src/storage/tables/enterprises.js';
import { asStored, EngineEventRow, eventRows, eventsInSpans, insertEvents, planPayloads } from '../../src/storage/tables/events.js';
import { insertPlanChecks, planCheckRows, planChecksOfPlan, upcomingPlanChecks } from '../../src/storage/tables/plan-checks.js';
import { insertPlanSuggestions, suggestionsOfPlans, type PlanSuggestionRow } from '../../src/storage/tables/plan-suggestions.js';
import { insertOfficers, officerAgencies, officerNames, officerRow, officerSearch } from '../../src/storage/tables/officers.js';
import { parseRows, RowError } from '../../src/storage/tables/query.js';
import { insertSilences, silenceById, silencesByState, type SilenceRow } from '../../src/storage/tables/silences.js';
import {
  insertTicketChanges, insertTickets, lastTicketSerial, storedTicketIds, ticketById, ticketChangeOf, ticketChangeRow, ticketCountsByState, ticketHistory, ticketOf, ticketPage, ticketRow,
} from '../../src/storage/tables/tickets.js';
import { checkin, complaint, creditCode, evaluation, filing, inspection, notice, plan } from './fixtures.js';
import type { StorageUnderTest } from './storage-contract.js';

/**
 * The table modules (src/storage/tables) against a real engine, migrated as the service migrates it: each row
 * schema names the migrated columns, rows written by a module read back as they were, and a stored row that
 * does not fit is refused with the query, the row and the column. Run for each adapter, because they print
 * values differently (64-bit integers are quoted by a server, bare from chdb).
 */
export function describeTableModules(name: string, setup: () => Promise<StorageUnderTest>): void {
  describe(`table modules: ${name}`, () => {
    let under: StorageUnderTest | undefined;
    let storage: Storage;

    beforeAll(async () => {
      under = await setup();
      storage = under.storage;
      await migrate(storage);
    });
    afterAll(async () => {
      await under?.teardown();
    });

    // Columns a table holds that its module leaves out on purpose (each module's comment says why).
    const LEFT_OUT: Record<string, string[]> = { events: ['stored_at'], enterprises: ['exempt'], audit_log: ['recorded_at'] };

    const migratedColumns = async (table: string) => (await storage.query<{ name: string }>(
      'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}', { table }))
      .map((r) => r.name).filter((name) => !(LEFT_OUT[table] ?? []).includes(name)).sort();

    describe('each table module and the migrations agree', () => {
      it('every table the migrations create has a module', async () => {
        const rows = await storage.query<{ name: string }>(
          "SELECT name FROM system.tables WHERE database = currentDatabase() AND name != 'schema_migrations'");
        expect(Object.keys(TABLE_ROWS).sort()).toEqual(rows.map((r) => r.name).sort());
      });

      it.each(Object.keys(TABLE_ROWS))('%s: the row schema names exactly the migrated columns', async (table) => {
        const migrated = await migratedColumns(table);
        expect(migrated.length).toBeGreaterThan(0);
        expect(Object.keys(TABLE_ROWS[table]!.shape).sort()).toEqual(migrated);
      });

      it('the comparison fails for a schema that lacks a column', async () => {
        const lacking = TABLE_ROWS.silences!.omit({ reason: true });
        expect(Object.keys(lacking.shape).sort()).not.toEqual(await migratedColumns('silences'));
      });
    });

    describe('events', () => {
      const company = creditCode('371402', 71);
      const events = [
        checkin({ enterprise_id: company }),
        inspection({ enterprise_id: company, matters: ['特种设备'], remedies: '行政复议', credit_repair: '信用中国' }),
        plan({ enterprise_ids: [company, creditCode('371402', 72)], matters: ['食品安全', '“特种设备”'] }),
        complaint({ enterprise_id: company, checkin_id: 'ci-1' }),
        filing({ enterprise_id: company, region: '371402' }),
        notice({ enterprise_id: company }),
        evaluation({ enterprise_id: company, score: 95 }),
      ].map((e) => Event.parse(e));
      const spans = new Map([[null, { from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') }]]);

      it('reads back every type as the engine sees the event before it is stored', async () => {
        await insertEvents(storage, events.flatMap((e) => eventRows(e, '2026-11-24T00:00:00Z')));
        const read = (await eventsInSpans(storage, { enterpriseIds: [company], spans })).map(fromStoredRow);
        const expected = events.flatMap(fromEvent).filter((e) => e.enterprise_id === company);
        expect(read.sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)));
      });

      it('reads an insert row as the table holds it: what the store worker hands to evaluation', async () => {
        const rows = events.flatMap((e) => eventRows(e, '2026-11-24T00:00:00Z')).filter((r) => r.enterprise_id === company);
        const stored = await eventsInSpans(storage, { enterpriseIds: [company], spans });
        const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
        expect(parseRows('events.stored', EngineEventRow, rows.map(asStored)).sort(byId)).toEqual(stored.sort(byId));
      });

      it('names credit codes as literals, binds any other id, and finds nothing by a hostile one', async () => {
        const typed = new Map([['checkin', spans.get(null)!], ['plan', spans.get(null)!]]);
        expect(eventsInSpans.statement({ enterpriseIds: [company], spans: typed }).values).toEqual({});
        const hostile = `${company}' OR 1 = 1 OR enterprise_id = '`;
        expect(eventsInSpans.statement({ enterpriseIds: [company, hostile], spans: typed }).values).toMatchObject({ ids: [company, hostile] });
        const inlined = await eventsInSpans(storage, { enterpriseIds: [company], spans: typed });
        const bound = await eventsInSpans(storage, { enterpriseIds: [company, hostile], spans: typed });
        expect(inlined.map((r) => r.type).sort()).toEqual(['checkin', 'plan']);
        expect(bound).toEqual(inlined);
        expect(await eventsInSpans(storage, { enterpriseIds: [hostile], spans: typed })).toEqual([]);
        expect(await companyRows(storage, { ids: [hostile] })).toEqual([]);
        expect(companyRows.statement({ ids: [company] }).values).toEqual({});
      });

      it("reads a plan version's accepted JSON by literal ids, or bound ones, and nothing by a hostile id", async () => {
        const filed = events.find((e) => e.type === 'plan')!;
        const asLiterals = { enterpriseIds: [company], ids: [filed.id] };
        expect(planPayloads.statement(asLiterals).values).toEqual({});
        const found = await planPayloads(storage, asLiterals);
        expect(found.map((r) => [r.id, JSON.parse(r.payload).enterprise_ids])).toEqual([[filed.id, [company, creditCode('371402', 72)]]]);
        const hostile = `${filed.id}' OR 1 = 1 OR id = '`;
        expect(planPayloads.statement({ enterpriseIds: [company], ids: [filed.id, hostile] }).values).toMatchObject({ ids: [filed.id, hostile] });
        expect(await planPayloads(storage, { enterpriseIds: [company], ids: [filed.id, hostile] })).toEqual(found);
        expect(await planPayloads(storage, { enterpriseIds: [company], ids: [hostile] })).toEqual([]);
      });

      it('refuses a stored row that does not fit, naming the query, the row and the column', async () => {
        const stray = creditCode('371402', 73);
        await storage.insert('events', [{
          id: 'odd', type: 'visit', enterprise_id: stray, occurred_at: '2026-11-20 01:00:00.000', received_at: '2026-11-20 01:00:00.000',
          region: '371402', source: 'elsewhere', agency_id: '', payload: '{}',
        }]);
        const failure = eventsInSpans(storage, { enterpriseIds: [stray], spans });
        await expect(failure).rejects.toThrow(RowError);
        await expect(failure).rejects.toThrow(/^events\.inSpans: row 0 does not fit the table's schema: type: /);
      });
    });

    describe('enterprises', () => {
      const id = creditCode('370683', 81);
      const company = Enterprise.parse({ enterprise_id: id, name: '莱州市海岳石材有限公司', region: '370683', credit_grade: 'C', quiet_period: { days_of_month: [1, -1] },
        status: 'deregistered', deregistered_on: '2025-06-30' });

      it('round-trips a company, its quiet period parsed and checked', async () => {
        await insertEnterprises(storage, [enterpriseRow(company, '2026-11-24 00:00:00.000')]);
        expect(await enterpriseById(storage, { id })).toEqual([{ ...company, updated_at: '2026-11-24 00:00:00.000' }]);
        expect(await companyRows(storage, { ids: [id] })).toEqual([company]);
      });

      it('refuses a stored quiet period that is not what PUT /v1/enterprises accepts', async () => {
        const other = creditCode('370683', 82);
        await insertEnterprises(storage, [{ ...enterpriseRow({ ...company, enterprise_id: other }, '2026-11-24 00:00:00.000'), quiet_period: '{"days_of_month":[0]}' }]);
        await expect(companyRows(storage, { ids: [other] })).rejects.toThrow(/^enterprises\.companies: row 0 does not fit the table's schema: quiet_period\.days_of_month\.0: day 0 does not exist/);
      });
    });

    describe('officers', () => {
      const at = (s: number) => `2026-11-24 00:00:0${s}.000`;

      it('round-trips officers, the newest version winning, and finds them by name or number among the given agencies', async () => {
        await insertAgencies(storage, [
          agencyRow({ agency_id: '370600-T-SCJG', name: '烟台市市场监督管理局', region: '370600', kind: 'market_regulation' }, at(0)),
          agencyRow({ agency_id: '371400-T-SCJG', name: '德州市市场监督管理局', region: '371400', kind: 'market_regulation' }, at(0)),
        ]);
        await insertOfficers(storage, [
          officerRow({ officer_id: 'T-0010', name: '李建国', agency_id: '370600-T-SCJG' }, at(0)),
          officerRow({ officer_id: 'T-001', name: '王秀英', agency_id: '371400-T-SCJG' }, at(0)),
          officerRow({ officer_id: 'T-001', name: '王秀英', agency_id: '370600-T-SCJG' }, at(1)),
          officerRow({ officer_id: 'T-002', name: '张伟', agency_id: '371400-T-SCJG' }, at(0)),
        ]);
        expect(await officerAgencies(storage, { ids: ['T-001', 'T-404'] })).toEqual([{ officer_id: 'T-001', agency_id: '370600-T-SCJG' }]);
        expect(await officerNames(storage, { ids: ['T-002'] })).toEqual([{ officer_id: 'T-002', name: '张伟' }]);
        expect(await agenciesInRegion(storage, { region: '3714' })).toEqual([{ agency_id: '371400-T-SCJG', region: '371400' }]);
        const search = async (text: string, agencyIds = ['370600-T-SCJG', '371400-T-SCJG']) =>
          (await officerSearch(storage, { text, agencyIds, limit: 10 })).map((o) => o.officer_id);
        // The exact number first (王 sorts after 李), then by name; a number matches in part and in any case.
        expect(await search('T-001')).toEqual(['T-001', 'T-0010']);
        expect(await search('t-00', ['370600-T-SCJG'])).toEqual(['T-0010', 'T-001']);
        expect(await officerSearch(storage, { text: '秀英', agencyIds: ['370600-T-SCJG'], limit: 10 }))
          .toEqual([{ officer_id: 'T-001', name: '王秀英', agency_id: '370600-T-SCJG' }]);
        expect(await search('秀英', ['371400-T-SCJG'])).toEqual([]);
        expect(await search('', ['371400-T-SCJG'])).toEqual(['T-002']);
      });
    });

    describe('alerts', () => {
      const alert: Alert = {
        id: 'a-tables-1', fingerprint: 'a-tables-1', rule_id: 'no-plan', rule_version: 3, variant: 'manual_checkin', severity: 'high',
        mode: 'active', channels: ['feed', 'hotline'], title: { zh: '无计划入企', en: 'No plan' }, message: { zh: '“未报备”\n检查', en: "O'Reilly" },
        region: '371402', enterprise_id: creditCode('371402', 91), agency_id: '371400-SCJG', officer_ids: ['o1'],
        window_start: '2026-11-20T00:00:00.000Z', window_end: '2026-11-21T00:00:00.000Z', anchor_at: '2026-11-20T01:30:00.000Z',
        first_seen_at: '2026-11-20T01:30:00.000Z', last_seen_at: '2026-11-20T01:30:00.000Z', count: 1,
        evidence: [{ event_id: 'ci-1', type: 'checkin', occurred_at: '2026-11-20T01:30:00.000Z', role: 'trigger', visit: 1 }],
        figures: { visits: 5, threshold: 4, late: null }, params: { lateness_hours: 24 }, status: 'acknowledged', resolution: '',
        resolution_note: '', resolved_by: '', resolved_at: null, acknowledged_by: 'staff-1', acknowledged_at: '2026-11-20T02:00:00.123Z',
        raised_at: '2026-11-20T01:31:00.000Z', updated_at: '2026-11-20T02:00:00.123Z', silenced_by: [], inhibited_by: '', escalation: 0, revision: 2,
      };
      const change: AlertChange = {
        alert_id: alert.id, revision: 2, at: '2026-11-20T02:00:00.123Z', actor: 'staff-1', action: 'acknowledged', from_status: 'open', to_status: 'acknowledged', note: '',
      };

      it('round-trips an alert and its history', async () => {
        await insertAlerts(storage, [alertRow({ ...alert, revision: 1, status: 'open', acknowledged_by: '', acknowledged_at: null }), alertRow(alert)]);
        await insertAlertChanges(storage, [alertChangeRow(alert, change)]);
        expect((await alertsByIds(storage, { ids: [alert.id] })).map(alertOf)).toEqual([alert]);
        expect((await alertPage(storage, { filters: { enterprise: alert.enterprise_id, status: 'acknowledged' }, limit: 10 })).map(alertOf)).toEqual([alert]);
        expect((await alertPage(storage, { filters: { officer: 'o1' }, limit: 10 })).map((a) => a.id)).toEqual([alert.id]);
        expect(await alertPage(storage, { filters: { officer: 'o' }, limit: 10 })).toEqual([]);
        expect((await alertHistory(storage, { id: alert.id })).map(alertChangeOf)).toEqual([change]);
      });

      it('refuses a stored alert whose evidence is not what the engine writes', async () => {
        const id = 'a-tables-2';
        await insertAlerts(storage, [{ ...alertRow({ ...alert, id }), evidence: '[{"event_id":"ci-1"}]' }]);
        await expect(alertsByIds(storage, { ids: [id] })).rejects.toThrow(/^alerts\.byIds: row 0 does not fit the table's schema: evidence\.0\.type: /);
      });
    });

    describe('tickets', () => {
      const ticket: Ticket = {
        id: 't-tables-1', source: 'complaint', source_id: 'co-1', alert_id: null, region: '371402', enterprise_id: creditCode('371402', 95),
        agency_id: '371400-SCJG', category: 'no_scan', title: { zh: '投诉：未亮码', en: 'Complaint' }, description: '检查人员未亮码入企',
        priority: 'high', state: 'assigned', claimed_by: '', claimed_until: null, assignee: { kind: 'justice', id: 'jb-1' }, outcome: '',
        resolution_note: '', created_at: '2026-11-21T02:00:00.000Z', accepted_at: '2026-11-21T02:10:00.000Z', accept_due_at: '2026-11-21T04:00:00.000Z',
        resolve_due_at: '2026-11-28T02:00:00.000Z', resolved_at: null, sla_breaches: ['accept'], revision: 3, updated_at: '2026-11-21T03:00:00.000Z',
        number: '12345-20261121-0007', complainant: { name: '王先生', phone: '13800000000' },
        callback: { at: '2026-11-21T02:50:00.000Z', by: 'staff-2', satisfaction: 'basically_satisfied', note: '来电人基本满意' },
      };
      const change: TicketChange = {
        ticket_id: ticket.id, revision: 3, at: '2026-11-21T03:00:00.000Z', actor: 'staff-2', action: 'assigned', from_state: 'claimed',
        to_state: 'assigned', priority: 'high', note: '转司法局',
      };

      it('round-trips a ticket, its history, its place in the queue and the count by state', async () => {
        await insertTickets(storage, [ticketRow(ticket)]);
        await insertTicketChanges(storage, [ticketChangeRow(ticket, change)]);
        expect((await ticketById(storage, { id: ticket.id })).map(ticketOf)).toEqual([ticket]);
        const page = await ticketPage(storage, { filters: { region: '371402', assignee_kind: 'justice' }, limit: 10, now: new Date('2026-11-21T05:00:00Z') });
        expect(page.map(ticketOf)).toEqual([ticket]);
        expect(await ticketHistory(storage, { id: ticket.id }).then((rows) => rows.map(ticketChangeOf))).toEqual([change]);
        expect(await ticketCountsByState(storage, {})).toEqual([{ state: 'assigned', n: 1 }]);
        expect(await lastTicketSerial(storage, { prefix: '12345-20261121-' })).toEqual([{ last: 7 }]);
        expect(await lastTicketSerial(storage, { prefix: '12345-20261122-' })).toEqual([{ last: 0 }]);
      });

      it('finds a ticket by an id of the hotline\'s making (written as a literal) and by any other id (bound), and no ticket by a hostile one', async () => {
        const made = { ...ticket, id: complaintTicketId({ enterprise_id: ticket.enterprise_id, id: 'co-tables-3' }) };
        expect(made.id).toMatch(/^[0-9a-f]{32}$/);
        await insertTickets(storage, [ticketRow(made)]);
        expect((await ticketById(storage, { id: made.id })).map(ticketOf)).toEqual([made]);
        expect((await ticketById(storage, { id: ticket.id })).map(ticketOf)).toEqual([ticket]);
        expect(await ticketById(storage, { id: `${made.id}' OR 1 = 1 OR id = '` })).toEqual([]);
        expect(await ticketById(storage, { id: `${made.id.slice(0, 31)}\\` })).toEqual([]);
      });

      it('tells which of some tickets are stored, in one read, by literal ids or bound ones', async () => {
        const made = { ...ticket, id: complaintTicketId({ enterprise_id: ticket.enterprise_id, id: 'co-tables-4' }) };
        const absent = complaintTicketId({ enterprise_id: ticket.enterprise_id, id: 'co-tables-5' });
        await insertTickets(storage, [ticketRow(made), ticketRow({ ...made, revision: 4 })]);
        expect(await storedTicketIds(storage, { ids: [made.id, absent] })).toEqual([{ id: made.id }]);
        const found = await storedTicketIds(storage, { ids: [made.id, ticket.id, absent, `${made.id}' OR 1 = 1 OR id = '`] });
        expect(found.map((row) => row.id).sort()).toEqual([made.id, ticket.id].sort());
      });

      it('refuses a stored ticket in a state the hotline does not know', async () => {
        const id = 't-tables-2';
        await storage.insert('tickets', [{ ...ticketRow({ ...ticket, id }), state: 'parked' }]);
        await expect(ticketById(storage, { id })).rejects.toThrow(/^tickets\.byId: row 0 does not fit the table's schema: state: /);
      });
    });

    describe('reference search', () => {
      it('finds companies and agencies by part of the name or the start of the code, within a region, by name', async () => {
        const [a, b, elsewhere] = [creditCode('371423', 1), creditCode('371423', 2), creditCode('370683', 3)];
        await insertEnterprises(storage, [
          { enterprise_id: b, name: '乐陵市金丝小枣有限公司', region: '371423', credit_grade: 'A' },
          { enterprise_id: a, name: '乐陵市调味品有限公司', region: '371423', credit_grade: 'B' },
          { enterprise_id: elsewhere, name: '莱州市乐陵石材有限公司', region: '370683', credit_grade: 'A' },
        ].map((e) => enterpriseRow(Enterprise.parse(e), '2026-11-24 00:00:00.000')));
        await insertAgencies(storage, [agencyRow({ agency_id: '371423-SCJG', name: '乐陵市市场监督管理局', region: '371423', kind: 'market' }, '2026-11-24 00:00:00.000')]);

        // By name as ClickHouse orders bytes: 调 (U+8C03) before 金 (U+91D1).
        const [first, second] = [{ enterprise_id: a, name: '乐陵市调味品有限公司', region: '371423' }, { enterprise_id: b, name: '乐陵市金丝小枣有限公司', region: '371423' }];
        expect(await enterpriseSearch(storage, { text: '乐陵', region: '3714', limit: 10 })).toEqual([first, second]);
        expect(await enterpriseSearch(storage, { text: a.slice(0, 12), region: '371423', limit: 1 })).toEqual([first]);
        expect(await enterpriseSearch(storage, { text: b.toLowerCase(), region: '', limit: 10 })).toEqual([second]);
        expect(await agencySearch(storage, { text: '371423-scjg', region: '37', limit: 10 })).toEqual([{ agency_id: '371423-SCJG', name: '乐陵市市场监督管理局', region: '371423' }]);
        expect(await agencySearch(storage, { text: '', region: '3301', limit: 10 })).toEqual([]);
      });

      it('reads agencies\' names and regions by literal ids, or bound ones, and nothing by a hostile id', async () => {
        const expected = [{ agency_id: '371423-SCJG', name: '乐陵市市场监督管理局', region: '371423' }];
        expect(agencyNamesAndRegions.statement({ ids: ['371423-SCJG'] }).values).toEqual({});
        expect(await agencyNamesAndRegions(storage, { ids: ['371423-SCJG', 'no-such-agency'] })).toEqual(expected);
        const hostile = "371423-SCJG' OR 1 = 1 OR agency_id = '";
        expect(agencyNamesAndRegions.statement({ ids: ['371423-SCJG', hostile] }).values).toEqual({ ids: ['371423-SCJG', hostile] });
        expect(await agencyNamesAndRegions(storage, { ids: ['371423-SCJG', hostile] })).toEqual(expected);
        expect(await agencyNamesAndRegions(storage, { ids: [hostile] })).toEqual([]);
      });
    });

    describe('silences', () => {
      const silence: SilenceRow = {
        id: 's-tables-1', rule_id: 'no-plan', region: '3714', agency_id: '', enterprise_id: '', reason: '系统演练', created_by: '值班员',
        created_at: '2026-11-20 01:00:00.000', ends_at: '2026-11-20 03:00:00.000', expired_by: '', updated_at: '2026-11-20 01:00:00.000', revision: 1,
      };

      it('round-trips a silence; the highest revision wins and it is active until it ends', async () => {
        const expired = { ...silence, ends_at: '2026-11-20 02:00:00.000', expired_by: '值班员', updated_at: '2026-11-20 02:00:00.000', revision: 2 };
        await insertSilences(storage, [silence, expired]);
        expect(await silenceById(storage, { id: silence.id })).toEqual([expired]);
        const at = (time: string) => new Date(time);
        expect((await silencesByState(storage, { state: 'active', now: at('2026-11-20T01:59:00Z') })).map((s) => s.id)).toContain(silence.id);
        expect((await silencesByState(storage, { state: 'expired', now: at('2026-11-20T02:00:00Z') })).map((s) => s.id)).toContain(silence.id);
        expect((await silencesByState(storage, { state: 'active', now: at('2026-11-20T02:00:00Z') })).map((s) => s.id)).not.toContain(silence.id);
      });
    });

    describe('audit_log', () => {
      const entry: AuditEntry = {
        id: 'ticket:t-audit-1:2', at: '2026-11-21T03:00:00.123Z', actor: '王敏', actor_role: 'hotline', actor_token: 'tok-1', actor_unit: '德州市12345热线',
        actor_shared: true, action: 'ticket.assign', target_kind: 'ticket', target_id: 't-audit-1', region: '371402', revision: 2,
        before: { state: 'claimed' }, after: { state: 'assigned', assignee: { kind: 'justice', id: 'jb-1' } }, note: '转司法局', request_id: 'req-1',
      };

      it('round-trips an entry, newest first after a position, and drops fields named like credentials', async () => {
        const older = { ...entry, id: 'ticket:t-audit-1:1', at: '2026-11-21T02:00:00.000Z', revision: 1, before: {}, after: { state: 'claimed', token: 'qjt_secret' } };
        await insertAuditEntries(storage, [auditRow(older), auditRow(entry)]);
        const page = await auditPage(storage, { filters: { target_id: 't-audit-1' }, limit: 10 });
        expect(page.map(auditEntryOf)).toEqual([entry, { ...older, after: { state: 'claimed' } }]);
        const next = await auditPage(storage, { filters: { target_kind: 'ticket', region_prefix: '3714' }, limit: 10, after: { at: page[0]!.at, id: page[0]!.id } });
        expect(next.map((r) => r.id)).toEqual([older.id]);
      });

      it('refuses a stored entry for an action the log does not know', async () => {
        await storage.insert('audit_log', [{ ...auditRow({ ...entry, id: 'odd', target_id: 't-audit-2' }), action: 'ticket.shred' }]);
        await expect(auditPage(storage, { filters: { target_id: 't-audit-2' }, limit: 1 }))
          .rejects.toThrow(/^audit_log\.page: row 0 does not fit the table's schema: action: /);
      });
    });

    describe('api_tokens', () => {
      const token: ApiTokenRow = {
        id: 'tok-tables-1', name: '李娜', unit: '德州市司法局', shared: false, role: 'justice', jurisdiction: '3714', enterprise_id: '', hash: 'h1',
        created_by: 'admin', created_at: '2026-11-20 01:00:00.000', expires_at: null, revoked_at: null, revoked_by: '', updated_at: '2026-11-20 01:00:00.000', revision: 1,
      };

      it('reads every token in its latest revision', async () => {
        const revoked = { ...token, revoked_at: '2026-11-21 01:00:00.000', revoked_by: 'admin', updated_at: '2026-11-21 01:00:00.000', revision: 2 };
        await insertApiTokens(storage, [token, revoked]);
        expect((await allApiTokens(storage, {})).filter((t) => t.id === token.id)).toEqual([revoked]);
      });
    });

    describe('plan_checks and plan_suggestions', () => {
      const company = creditCode('371402', 97);
      const filed: PlanUnderCheck & { event_id: string } = {
        plan_id: 'pl-tables-1', event_id: 'ev-pl-tables-1', region: '371400', agency_id: '371400-SCJG', enterprise_ids: [company],
        window_start: '2026-12-01', window_end: '2026-12-03', mode: 'onsite', joint_agency_ids: [], matters: ['食品安全'], reviewed_by: '',
        replaces: [], filed_at: Date.parse('2026-11-20T00:00:00Z'), status: 'filed',
      };
      const check: PlanCheck = {
        plan_id: filed.plan_id, agency_id: filed.agency_id, agency_name: '德州市市场监督管理局', agency_level: 'city', matters: ['食品安全'], mode: 'onsite',
        window_start: filed.window_start, window_end: filed.window_end, checked_at: '2026-11-20T00:00:01.000Z', verdict: 'advise',
        companies: [{
          enterprise_id: company, name: '德州市鲁信食品有限公司', region: '371402', verdict: 'advise',
          findings: [{
            check: 'merge', rule_id: 'joint-inspection', source: { document: '德州市涉企行政检查办法', clause: '第十条' }, level: 'advise',
            message: { zh: '可合并', en: 'Could be merged' }, figures: { overlap_days: 2, same_agency: false, note: null },
          }],
          merge_candidates: [{
            plan_id: 'pl-other', agency_id: '371400-SWJ', agency_name: '德州市税务局', level: 'city', joint_agency_ids: [], same_agency: false,
            matters: ['税务'], event_id: 'ev-pl-other', window_start: '2026-12-02', window_end: '2026-12-04', overlap_days: 2, status: 'filed',
          }],
          suggestions: [{ action: 'merge', label: '合并检查', reason: { zh: '合并', en: 'Merge' }, plan_ids: ['pl-other'] }],
        }],
      };

      it('round-trips a filed plan\'s check; a cancelled plan is not upcoming', async () => {
        await insertPlanChecks(storage, planCheckRows(check, filed));
        const [stored] = await planChecksOfPlan(storage, { plan: filed.plan_id! });
        const { companies: [ours], agency_name, agency_level, matters } = check;
        expect(stored).toEqual({
          plan_id: filed.plan_id, enterprise_id: company, event_id: filed.event_id, region: '371402', agency_id: filed.agency_id,
          window_start: '2026-12-01', window_end: '2026-12-03', status: 'filed', verdict: 'advise',
          findings: { name: ours!.name, agency_name, agency_level, matters, findings: ours!.findings, merge_candidates: ours!.merge_candidates },
          suggestions: ours!.suggestions, checked_at: '2026-11-20 00:00:01.000',
        });
        expect((await upcomingPlanChecks(storage, { today: '2026-12-03', prefix: '3714', limit: 10 })).map((r) => r.plan_id)).toContain(filed.plan_id);
        await insertPlanChecks(storage, planCheckRows({ ...check, checked_at: '2026-11-21T00:00:00.000Z' }, { ...filed, status: 'cancelled' }));
        expect((await upcomingPlanChecks(storage, { today: '2026-12-01', prefix: '3714', limit: 10 })).map((r) => r.plan_id)).not.toContain(filed.plan_id);
      });

      it('reads a check stored before the console showed the plan\'s agency and matters', async () => {
        const [row] = planCheckRows({ ...check, plan_id: 'pl-tables-old' }, filed);
        const { agency_name: _name, agency_level: _level, matters: _matters, ...older } = JSON.parse(row!.findings) as Record<string, unknown>;
        await insertPlanChecks(storage, [{ ...row!, findings: JSON.stringify(older) }]);
        const [stored] = await planChecksOfPlan(storage, { plan: 'pl-tables-old' });
        expect(stored!.findings).toMatchObject({ agency_name: '', agency_level: null, matters: [] });
      });

      it('round-trips suggestions, newest first, a window only for a change', async () => {
        const merge: PlanSuggestionRow = {
          id: 'sg-1', plan_id: 'pl-tables-2', action: 'merge', with_plan_ids: ['pl-other'], window_start: null, window_end: null, note: '',
          region: '371400', agency_id: '371400-SCJG', actor: '赵强', actor_role: 'coordination', at: '2026-11-20 01:00:00.000',
        };
        const change = { ...merge, id: 'sg-2', action: 'change' as const, with_plan_ids: [], window_start: '2026-12-08', window_end: '2026-12-09', at: '2026-11-20 02:00:00.000' };
        await insertPlanSuggestions(storage, [merge, change]);
        expect(await suggestionsOfPlans(storage, { ids: ['pl-tables-2'] })).toEqual([change, merge]);
      });
    });
  });
}
