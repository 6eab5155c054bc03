/**
 * What a statistic's SQL may depend on, and the two ways it is filled in: as
 * server-side query parameters for GET /v1/stats/{name}, and as Grafana's
 * template variables and the ClickHouse plugin's macros for the boards in
 * dashboards/. A definition writes its SQL once against `Dialect`, so the API
 * and the board run the same text apart from these placeholders.
 */
export interface Dialect {
  /** `column` inside the chosen time range, both ends included (what the plugin's `$__timeFilter` means). */
  during(column: string): string;
  /** The region prefix as a string literal: '' means everywhere. */
  readonly region: string;
  /** The agency id as a string literal: '' means every agency. */
  readonly agency: string;
}

/** Query parameters: `from`, `to` (DateTime64), `region`, `agency` (String). */
export const API_DIALECT: Dialect = {
  during: (column) => `${column} >= {from:DateTime64(3, 'UTC')} AND ${column} <= {to:DateTime64(3, 'UTC')}`,
  region: '{region:String}',
  agency: '{agency:String}',
};

/**
 * Grafana's variables quoted by `:sqlstring` (All is the empty string literal, dashboards/README.md) and the
 * plugin's time filter, which takes a plain column only.
 */
export const GRAFANA_DIALECT: Dialect = {
  during: (column) => {
    if (!/^[\w.]+$/.test(column)) throw new Error(`$__timeFilter takes a plain column, not ${column}`);
    return `$__timeFilter(${column})`;
  },
  region: '${region:sqlstring}',
  agency: '${agency:sqlstring}',
};

/**
 * How many days ahead a plan must be filed where it is filed: the no-plan rule's `lead_days` in force under
 * each prefix of the policy map, the rule's default elsewhere.
 */
export interface LeadDays {
  byPrefix: ReadonlyArray<{ prefix: string; days: number }>;
  fallback: number;
}

/** Everything a definition reads besides the dialect: today only the lead days from the rules in force. */
export interface StatsContext {
  leadDays: LeadDays;
}

/** The lead days required for a row's `regionColumn`, as one SQL expression (the longest prefix wins). */
export function requiredLeadDays(regionColumn: string, lead: LeadDays): string {
  const ordered = [...lead.byPrefix].sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix));
  if (ordered.length === 0) return String(lead.fallback);
  const arms = ordered.map(({ prefix, days }) => `startsWith(${regionColumn}, '${digits(prefix)}'), ${Math.trunc(days)}`);
  return `multiIf(${arms.join(', ')}, ${Math.trunc(lead.fallback)})`;
}

// Prefixes come from the validated policy map; refuse anything else rather than splice it into SQL.
const digits = (prefix: string) => {
  if (!/^\d{1,6}$/.test(prefix)) throw new Error(`policy prefix ${prefix} is not a division-code prefix`);
  return prefix;
};

// ---------- fragments several statistics share ----------

/** A reference name, or the code when the reference data has none. */
export const nameOr = (name: string, code: string) => `if(${name} = '', ${code}, ${name})`;

// Joined GLOBAL when the left side is a table itself: on a cluster of two shards or more, ClickHouse refuses a join of
// a Distributed table with a subquery reading another (code 288; tests/storage.cluster-shards.test.ts runs every
// statistic so). GLOBAL reads the names once and sends them to every shard.
export const AGENCY_NAMES = '(SELECT agency_id, name FROM agencies FINAL)';
export const COMPANY_NAMES = '(SELECT enterprise_id, name, credit_grade FROM enterprises FINAL)';

/** Alerts that stand: live rules, not cleared by the engine, not resolved as a mistake. */
export const standing = (alias = '') => `${alias}mode = 'active' AND ${alias}resolution NOT IN ('cleared', 'false_positive', 'data_error')`;

/**
 * A visit is one agency at one company on one Shanghai day, from an on-site inspection record or an entry
 * check-in (so joint agencies that scanned in count).
 */
export const VISITS = `(
    SELECT enterprise_id, agency_id, region, at, toDate(at, 'Asia/Shanghai') AS day
    FROM (
      SELECT enterprise_id, agency_id, region, assumeNotNull(started_at) AS at FROM events FINAL WHERE type = 'inspection' AND onsite
      UNION ALL
      SELECT enterprise_id, agency_id, region, occurred_at AS at FROM events FINAL WHERE type = 'checkin' AND action = 'enter'
    )
  )`;

/**
 * Plans by identity (plan_id, or the event id): the latest revision's terms, the first filing's time. A plan
 * covering several companies is one plan.
 */
export const PLANS = `(
    SELECT if(plan_id = '', id, plan_id) AS plan_key,
           argMax(agency_id, occurred_at) AS agency_id,
           argMax(joint_agency_ids, occurred_at) AS joint_agency_ids,
           argMax(region, occurred_at) AS region,
           argMax(status, occurred_at) AS status,
           argMax(mode, occurred_at) AS mode,
           assumeNotNull(argMax(window_start, occurred_at)) AS window_start,
           assumeNotNull(argMax(window_end, occurred_at)) AS window_end,
           min(occurred_at) AS filed_at
    FROM events FINAL
    WHERE type = 'plan'
    GROUP BY plan_key
  )`;

/** Plans with the days between first filing (Shanghai date) and the window's start, and the days their region requires. */
export const plansWithLead = (context: StatsContext) => `(
    SELECT *, dateDiff('day', toDate(filed_at, 'Asia/Shanghai'), window_start) AS lead_days,
           ${requiredLeadDays('region', context.leadDays)} AS required_days
    FROM ${PLANS}
  )`;

/**
 * Inspection records of the range and region with whether their plan is joint (names joint agencies). The
 * agency filter is left to the caller: a joint agency takes part in the lead agency's inspection too.
 */
export const inspectionsWithPlan = (d: Dialect) => `(
    SELECT i.agency_id AS agency_id, i.onsite AS onsite, i.outcome AS outcome, i.started_at AS started_at, i.enterprise_id AS enterprise_id,
           p.joint_agency_ids AS joint_agency_ids, notEmpty(p.joint_agency_ids) AS joint
    FROM (
      SELECT agency_id, plan_id, onsite, outcome, started_at, enterprise_id FROM events FINAL
      WHERE type = 'inspection' AND ${d.during('started_at')} AND startsWith(region, ${d.region})
    ) AS i
    LEFT JOIN (SELECT if(plan_id = '', id, plan_id) AS plan_key, argMax(joint_agency_ids, occurred_at) AS joint_agency_ids FROM events FINAL WHERE type = 'plan' GROUP BY plan_key) AS p
      ON p.plan_key = i.plan_id
  )`;

/** A record found a problem: an outcome other than no_issue (records without an outcome are not counted either way). */
export const foundProblem = (outcome: string) => `${outcome} NOT IN ('', 'no_issue')`;

/** The agency filter on a column: every agency when none is chosen. */
export const agencyIs = (d: Dialect, column = 'agency_id') => `(${d.agency} = '' OR ${column} = ${d.agency})`;

/** The region filter on a column holding a 6-digit division code. */
export const regionIs = (d: Dialect, column = 'region') => `startsWith(${column}, ${d.region})`;

/**
 * Plan tasks (a plan at one company, by the latest version naming the company) with whether a visit carried
 * them out: an on-site entry scan or record at the company by the plan's agency or a joint agency, on a Shanghai
 * day of the window, naming this plan or none; an exit scan carries out nothing. A plan a joint plan replaces
 * (`replaces`) counts as withdrawn, as `planVersions` has it. This is `isLinkedVisit`
 * (src/rules/plans.ts), which the weekly review (src/plans/review.ts) and plan-not-executed use, in SQL.
 */
export const PLAN_TASKS = `(
    SELECT t.plan_key AS plan_key, t.enterprise_id AS enterprise_id, any(t.agency_id) AS agency_id, any(t.region) AS region,
           if(plan_key IN (SELECT arrayJoin(replaces) FROM events FINAL WHERE type = 'plan' AND status != 'cancelled'), 'cancelled', any(t.status)) AS status,
           any(t.window_start) AS window_start, any(t.window_end) AS window_end,
           max((v.agency_id = t.agency_id OR has(t.joint_agency_ids, v.agency_id))
               AND v.day >= t.window_start AND v.day <= t.window_end AND (v.plan_id = '' OR v.plan_id = t.plan_key)) AS carried_out
    FROM (
      SELECT if(plan_id = '', id, plan_id) AS plan_key, enterprise_id,
             argMax(agency_id, occurred_at) AS agency_id, argMax(joint_agency_ids, occurred_at) AS joint_agency_ids,
             argMax(region, occurred_at) AS region, argMax(status, occurred_at) AS status,
             assumeNotNull(argMax(window_start, occurred_at)) AS window_start, assumeNotNull(argMax(window_end, occurred_at)) AS window_end
      FROM events FINAL
      WHERE type = 'plan'
      GROUP BY plan_key, enterprise_id
    ) AS t
    LEFT JOIN (
      SELECT enterprise_id, agency_id, plan_id, toDate(ifNull(started_at, occurred_at), 'Asia/Shanghai') AS day
      FROM events FINAL
      WHERE type IN ('checkin', 'inspection') AND onsite AND NOT (type = 'checkin' AND action = 'exit')
    ) AS v ON v.enterprise_id = t.enterprise_id
    GROUP BY plan_key, enterprise_id
  )`;

/** An ISO week as 2025-W33. */
export const isoWeek = (date: string) => `concat(toString(toISOYear(${date})), '-W', leftPad(toString(toISOWeek(${date})), 2, '0'))`;
