import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEARED, type Alert } from '../src/alerts/model.js';
import { checkin, creditCode, filing, inspection, plan, complaint, uniqueId } from './support/fixtures.js';
import { eventually, get, post, put, startTestService, type TestService } from './support/service.js';

/**
 * The policy map and the corrected rules through the whole service: HTTP in,
 * the store and evaluate workers, embedded ClickHouse, the alert API out.
 * Each rule holds only where its document does, counts visits, and follows
 * plans by their identity, whatever order the events arrive in.
 */
let service: TestService;

beforeAll(async () => {
  service = await startTestService({ STORE_BATCH_WAIT_MS: '20', RULES_WATCH: 'false' });
  const agencies = [
    ['371400-SCJG', '德州市市场监督管理局', '371400'], ['371400-YJGL', '德州市应急管理局', '371400'],
    ['370600-SCJG', '烟台市市场监督管理局', '370600'], ['331125-SCJG', '云和县市场监督管理局', '331125'],
    ['350300-SCJG', '莆田市市场监督管理局', '350300'],
  ];
  for (const [agency_id, name, region] of agencies) {
    expect((await put(`${service.url}/v1/agencies`, { agency_id, name, region, kind: 'market_regulation' })).status).toBe(200);
  }
});

afterAll(async () => {
  await service?.dispose();
});

let serial = 7000;
async function company(district: string, grade = 'C'): Promise<string> {
  const id = creditCode(district, serial++);
  expect((await put(`${service.url}/v1/enterprises`, { enterprise_id: id, name: `政策测试企业${serial}号`, region: district, credit_grade: grade })).status).toBe(200);
  return id;
}

const send = async (events: unknown[]) => {
  const res = await post(`${service.url}/v1/events`, events);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
};

async function alertsOf(enterprise: string, extra = ''): Promise<Alert[]> {
  const res = await get(`${service.url}/v1/alerts?enterprise=${enterprise}&limit=1000${extra}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

const waitFor = <T>(what: string, check: () => Promise<T | undefined>) => eventually(check, 30_000, what);

/** The company's alerts of a rule, once there is at least one. */
async function settled(enterprise: string, rule: string): Promise<Alert[]> {
  return waitFor(`${rule} for ${enterprise}`, async () => {
    const found = await alertsOf(enterprise, `&rule=${rule}`);
    return found.length > 0 ? found : undefined;
  });
}

describe('each rule holds only where its policy holds', () => {
  it('a check in 下旬 without a filing alerts in 云和 (丽水 quiet period) and not in 德州', async () => {
    const yunhe = await company('331125');
    const dezhou = await company('371402');
    // Monday 23 November 2026: 下旬. 云和 needs a head-approved filing within 3 working days; 德州 has no quiet period.
    // (德州 wants a scan on leaving too: the 德州 officer scans out, so that nothing else is wrong with the visit.)
    const at = '2026-11-23T10:00:00+08:00';
    await send([
      checkin({ enterprise_id: yunhe, region: '331125', agency_id: '331125-SCJG', occurred_at: at }),
      checkin({ enterprise_id: dezhou, agency_id: '371400-SCJG', occurred_at: at }),
      checkin({ enterprise_id: dezhou, agency_id: '371400-SCJG', occurred_at: '2026-11-23T11:00:00+08:00', action: 'exit' }),
      // A marker: 德州 sends complaints to the feed, so this raises complaint-received once everything before is stored.
      complaint({ enterprise_id: dezhou, category: 'other', occurred_at: at }),
    ]);
    const [quiet] = await settled(yunhe, 'quiet-period');
    expect(quiet).toMatchObject({ variant: 'unfiled', region: '331125', agency_id: '331125-SCJG' });
    await settled(dezhou, 'complaint-received');
    const dezhouRules = (await alertsOf(dezhou)).map((a) => a.rule_id).sort();
    expect(dezhouRules).toEqual(['complaint-received']);
  });

  it('a head-approved filing within 3 working days covers a 云和 quiet-period check, even arriving late', async () => {
    const yunhe = await company('331125');
    const at = '2026-11-23T10:00:00+08:00';
    const visit = checkin({ enterprise_id: yunhe, region: '331125', agency_id: '331125-SCJG', occurred_at: at });
    await send([visit]);
    await settled(yunhe, 'quiet-period');
    // The filing made on Thursday the 26th (the third working day) arrives only now: the alert is cleared, saying why.
    await send([filing({ enterprise_id: yunhe, agency_id: '331125-SCJG', visit_date: '2026-11-23', occurred_at: '2026-11-26T17:00:00+08:00', approved_by: 'head-331125-SCJG' })]);
    const cleared = await waitFor('cleared quiet-period alert', async () => {
      const [a] = await alertsOf(yunhe, '&rule=quiet-period');
      return a?.resolution === CLEARED ? a : undefined;
    });
    expect(cleared.variant).toBe('unfiled');
  });
});

describe('visits are the unit', () => {
  it('one agency three times in 12 days (the 禹城 example), sent in reverse order, raises one same_agency alert', async () => {
    const dezhou = await company('371402');
    const days = ['2026-11-23', '2026-11-28', '2026-12-04'];
    // Two officers scan in on the first visit: still one visit.
    const visits = days.flatMap((day, i) => [
      checkin({ enterprise_id: dezhou, agency_id: '371400-SCJG', occurred_at: `${day}T09:00:00+08:00`, officer_ids: ['371400-SCJG-001'] }),
      ...(i === 0 ? [checkin({ enterprise_id: dezhou, agency_id: '371400-SCJG', occurred_at: `${day}T09:03:00+08:00`, officer_ids: ['371400-SCJG-002'] })] : []),
      checkin({ enterprise_id: dezhou, agency_id: '371400-SCJG', occurred_at: `${day}T10:00:00+08:00`, action: 'exit', officer_ids: ['371400-SCJG-001'] }),
    ]);
    for (const event of visits.reverse()) await send([event]);
    const [alert] = await settled(dezhou, 'frequent-visits');
    await waitFor('all seven scans counted', async () => {
      const [a] = await alertsOf(dezhou, '&rule=frequent-visits');
      return a && a.evidence.length === 7 ? a : undefined;
    });
    const all = await alertsOf(dezhou, '&rule=frequent-visits');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: alert!.id, variant: 'same_agency', count: 3, agency_id: '371400-SCJG' });
    // The explanation lists the visits and the events that make each one: two entries and an exit, then an entry and an exit twice.
    expect(all[0]!.evidence.map((e) => e.visit)).toEqual([1, 1, 1, 2, 2, 3, 3]);
  });

  it('云和 annual cap: two officers\' records of one visit count once; a visit under national rules is not counted', async () => {
    const yunhe = await company('331125', 'B');
    const record = (day: string, officer: string, extra: Record<string, unknown> = {}) => inspection({
      enterprise_id: yunhe, region: '331125', agency_id: '331125-SCJG', officer_ids: [officer],
      started_at: `${day}T09:00:00+08:00`, ended_at: `${day}T10:00:00+08:00`, occurred_at: `${day}T15:00:00+08:00`, ...extra,
    });
    // Grade B: at most one on-site visit a year. March: one visit, two records. May: under national rules. July: over.
    await send([
      record('2026-03-10', '331125-SCJG-001'), record('2026-03-10', '331125-SCJG-002'),
      record('2026-05-12', '331125-SCJG-001', { national_basis: '《安全生产法》第六十五条' }),
    ]);
    await send([record('2026-07-14', '331125-SCJG-001')]);
    const [cap] = await waitFor('annual-cap alert with every record', async () => {
      const found = await alertsOf(yunhe, '&rule=annual-cap');
      return found.length > 0 && found[0]!.evidence.length === 4 ? found : undefined;
    });
    expect(cap).toMatchObject({ count: 2, figures: { count: 2, limit: 1, grade: 'B', not_counted: 1, not_counted_basis: '《安全生产法》第六十五条' } });
    expect(cap!.evidence.filter((e) => e.role === 'not_counted')).toHaveLength(1);
  });
});

describe('plans have an identity', () => {
  it('a 烟台 plan cancelled after the visit was decided still covers it; cancelled before, it does not', async () => {
    const covered = await company('370602');
    const withdrawn = await company('370602');
    const planFor = (enterprise: string, status: string, occurred_at: string, planId: string) => plan({
      enterprise_ids: [enterprise], region: '370600', agency_id: '370600-SCJG', plan_id: planId, status,
      window_start: '2026-11-20', window_end: '2026-11-20', occurred_at,
    });
    const visit = (enterprise: string) => checkin({ enterprise_id: enterprise, region: '370602', agency_id: '370600-SCJG', occurred_at: '2026-11-20T09:30:00+08:00' });
    const coveredPlan = uniqueId('plan');
    const withdrawnPlan = uniqueId('plan');
    // 烟台 sends complaints to the feed too: a complaint in the same request marks when each company was evaluated.
    const marker = (enterprise: string) => complaint({ enterprise_id: enterprise, region: '370602', category: 'other', occurred_at: '2026-11-20T12:00:00+08:00' });
    await send([planFor(covered, 'approved', '2026-11-10T10:00:00+08:00', coveredPlan), visit(covered), marker(covered)]);
    await send([planFor(withdrawn, 'approved', '2026-11-10T10:00:00+08:00', withdrawnPlan), visit(withdrawn), marker(withdrawn)]);
    // The visits are decided (no alert), then the cancellations arrive: one filed after its visit, one before (sent late).
    await settled(covered, 'complaint-received');
    await settled(withdrawn, 'complaint-received');
    expect(await alertsOf(covered, '&rule=no-plan')).toEqual([]);
    expect(await alertsOf(withdrawn, '&rule=no-plan')).toEqual([]);
    await send([
      planFor(covered, 'cancelled', '2026-11-21T10:00:00+08:00', coveredPlan),
      { ...marker(covered), occurred_at: '2026-11-20T13:00:00+08:00' },
      planFor(withdrawn, 'cancelled', '2026-11-18T10:00:00+08:00', withdrawnPlan),
    ]);
    const [alert] = await settled(withdrawn, 'no-plan');
    expect(alert).toMatchObject({ variant: '', severity: 'high', agency_id: '370600-SCJG' });
    // The other company's cancellation (with a second marker) was evaluated too and changed nothing.
    await waitFor('second marker', async () => ((await alertsOf(covered, '&rule=complaint-received'))[0]?.count === 2 ? true : undefined));
    expect(await alertsOf(covered, '&rule=no-plan')).toEqual([]);
  });
});

describe('烟台\'s green channel', () => {
  it('an urgent check entered within 30 minutes is no alert but a record for review; entered later, it is an alert', async () => {
    const inTime = await company('370602');
    const late = await company('370602');
    const urgent = (enterprise: string, planAt: string) => [
      checkin({ enterprise_id: enterprise, region: '370602', agency_id: '370600-SCJG', occurred_at: '2026-11-20T10:00:00+08:00', urgent_reason: 'complaint' }),
      plan({
        enterprise_ids: [enterprise], region: '370600', agency_id: '370600-SCJG', status: 'filed', urgent_reason: 'complaint',
        window_start: '2026-11-20', window_end: '2026-11-20', occurred_at: planAt,
      }),
    ];
    await send([...urgent(inTime, '2026-11-20T10:20:00+08:00'), ...urgent(late, '2026-11-20T10:45:00+08:00')]);
    const [record] = await waitFor('green-channel record', async () => {
      const found = await alertsOf(inTime, '&mode=record&variant=green_channel');
      return found.length > 0 ? found : undefined;
    });
    expect(record).toMatchObject({ rule_id: 'no-plan', mode: 'record', severity: 'low', region: '370602' });
    const [lateAlert] = await settled(late, 'no-plan');
    expect(lateAlert).toMatchObject({ variant: 'green_channel_late', mode: 'active' });
    // The record is not among the active alerts the feed and the console show.
    expect(await alertsOf(inTime, '&mode=active&rule=no-plan')).toEqual([]);
  });
});

describe('complaints go where the region sends them', () => {
  it('a 莆田 complaint is a 12345 ticket; a 德州 complaint goes to the feed and is no ticket', async () => {
    const putian = await company('350302');
    const dezhou = await company('371402');
    const putianComplaint = complaint({ enterprise_id: putian, region: '350302', category: 'misconduct', occurred_at: '2026-11-25T10:00:00+08:00' });
    const dezhouComplaint = complaint({ enterprise_id: dezhou, category: 'misconduct', occurred_at: '2026-11-25T10:00:00+08:00' });
    await send([putianComplaint, dezhouComplaint]);
    const tickets = async (region: string) => (await get(`${service.url}/v1/hotline/tickets?region=${region}&limit=500`)).body.items as Array<{ source_id: string }>;
    await waitFor('莆田 ticket', async () => ((await tickets('3503')).some((t) => t.source_id === putianComplaint.id) ? true : undefined));
    const [feedAlert] = await settled(dezhou, 'complaint-received');
    expect(feedAlert!.evidence.map((e) => e.event_id)).toEqual([dezhouComplaint.id]);
    expect((await tickets('3714')).some((t) => t.source_id === dezhouComplaint.id)).toBe(false);
    expect(await alertsOf(putian)).toEqual([]);
  });
});

describe('complaints are routed by the company\'s home, whatever region the event names', () => {
  it('a 德州 company\'s complaint sent under an 烟台 code goes to the feed only; an 烟台 company\'s under a 德州 code is a ticket', async () => {
    const dezhou = await company('371402');
    const yantai = await company('370602');
    const dezhouComplaint = complaint({ enterprise_id: dezhou, region: '370602', category: 'misconduct', occurred_at: '2026-11-26T10:00:00+08:00' });
    const yantaiComplaint = complaint({ enterprise_id: yantai, region: '371402', category: 'misconduct', occurred_at: '2026-11-26T10:00:00+08:00' });
    await send([dezhouComplaint, yantaiComplaint]);
    const tickets = async () => (await get(`${service.url}/v1/hotline/tickets?limit=500`)).body.items as Array<{ source_id: string; region: string }>;
    const ticket = await waitFor('烟台 ticket', async () => (await tickets()).find((t) => t.source_id === yantaiComplaint.id));
    expect(ticket.region).toBe('370602');
    await settled(dezhou, 'complaint-received');
    await settled(yantai, 'complaint-received');
    expect((await tickets()).some((t) => t.source_id === dezhouComplaint.id)).toBe(false);
  });
});
