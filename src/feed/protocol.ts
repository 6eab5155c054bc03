import { z } from 'zod';
import { AgencyId } from '../ingest/index.js';
import { SEVERITIES, type Alert, type AlertAction } from '../alerts/model.js';

/**
 * The live feed's wire format (version 1), documented in docs/api.md ("Live feed").
 *
 * Server → client:
 *   {"v":1,"type":"hello","latest_seq":"…"}                   on connect
 *   {"v":1,"type":"subscribed","filters":{…},"after":"…"|null} after each subscribe
 *   {"v":1,"type":"alert","seq":"…","action":"raised",…,"alert":{…}}  replayed, then live, in seq order
 *   {"v":1,"type":"caught_up","seq":"…"}                       replay done; what follows is live
 *   {"v":1,"type":"reset","reason":"…","oldest_seq":"…"}       `after` is older than the retained history: reload over HTTP
 *   {"v":1,"type":"error","field":"…","message":"…"}           a bad client message; the connection stays open
 *
 * Client → server:
 *   {"type":"subscribe","filters":{"rule":["no-plan"],"severity":["high"],"region":"3714","agency":["…"]},"after":"…"|null}
 *
 * `seq` is the Redis stream entry id ("<ms>-<n>"): increasing, unique, and what a client sends back as `after`.
 */
export const PROTOCOL_VERSION = 1;

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1).max(50)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

export const FeedFilters = z.object({
  rule: oneOrMany(z.string().min(1).max(64)).optional(),
  severity: oneOrMany(z.enum(SEVERITIES)).optional(),
  region: z.string().regex(/^\d{2,6}$/, 'must be 2 to 6 digits of a division code, e.g. 37, 3714 or 371402').optional(),
  agency: oneOrMany(AgencyId).optional(),
}).strict();
export type FeedFilters = z.infer<typeof FeedFilters>;

export const Seq = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'must be a seq this feed sent, e.g. "1732345678901-0"');

export const Subscribe = z.object({
  type: z.literal('subscribe'),
  filters: FeedFilters.default({}),
  after: Seq.nullable().default(null),
}).strict();
export type Subscribe = z.infer<typeof Subscribe>;

/** The alert as the feed carries it: everything but the evidence list and params (GET /v1/alerts/{id} has them). */
export type FeedAlert = Omit<Alert, 'evidence' | 'params'> & { evidence_count: number };

export interface AlertMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'alert';
  seq: string;
  action: AlertAction;
  /** Who caused the change ('system' for the engine). */
  actor: string;
  alert: FeedAlert;
}

export function feedAlert(alert: Alert): FeedAlert {
  const { evidence, params: _params, ...rest } = alert;
  return { ...rest, evidence_count: evidence.length };
}

/** Does a message's alert pass a subscriber's filters? */
export function matches(filters: FeedFilters, alert: Pick<Alert, 'rule_id' | 'severity' | 'region' | 'agency_id'>): boolean {
  return (!filters.rule || filters.rule.includes(alert.rule_id))
    && (!filters.severity || filters.severity.includes(alert.severity))
    && (!filters.region || alert.region.startsWith(filters.region))
    && (!filters.agency || filters.agency.includes(alert.agency_id));
}

/**
 * Stream ids compare as (ms, n) pairs of decimal integers without leading zeros: by length, then by text.
 * Called for every client and entry of a broadcast, so it parses nothing.
 */
export function compareSeq(a: string, b: string): number {
  const ia = a.indexOf('-');
  const ib = b.indexOf('-');
  return compareDigits(a.slice(0, ia), b.slice(0, ib)) || compareDigits(a.slice(ia + 1), b.slice(ib + 1));
}

const compareDigits = (x: string, y: string) => (x.length - y.length) || (x < y ? -1 : x > y ? 1 : 0);

/** An alert message without its seq (the journal assigns it): serialised once, whoever receives it. */
export function alertPayload(alert: Alert, action: AlertAction, actor: string): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, type: 'alert', action, actor, alert: feedAlert(alert) });
}
