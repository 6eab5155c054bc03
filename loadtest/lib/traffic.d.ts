// Types for traffic.js (plain JavaScript so k6 can run it), for the Node twin and the tests.
export interface ScenarioOptions {
  executor: 'constant-arrival-rate' | 'ramping-arrival-rate' | 'constant-vus';
  exec: string;
  startTime?: string;
  duration?: string;
  rate?: number;
  startRate?: number;
  timeUnit?: string;
  stages?: Array<{ target: number; duration: string }>;
  preAllocatedVUs?: number;
  maxVUs?: number;
  vus?: number;
  gracefulStop?: string;
}

export interface Plan {
  description?: string;
  traffic: {
    /** Where triggers and the rest go: districts of cities where no-plan is in force (the listeners subscribe by city). */
    regions: string[];
    /** Where complaints go (default: regions): districts whose complaints go to the 12345 hotline only. */
    complaint_regions?: string[];
    batch_size: number;
    trigger_every: number;
    complaint_every: number;
  };
  options: { setupTimeout?: string; scenarios: Record<string, ScenarioOptions>; thresholds: Record<string, string[]> };
}

export interface Run {
  id: string;
  nonce: string;
  started_at: number;
}

export type LoadEvent = Record<string, unknown> & { id: string; type: string; region: string; enterprise_id: string };

export interface Traffic {
  event(code: string, k: number, now: number): LoadEvent;
  iteration(scenarioName: string, i: number, now: number): LoadEvent[];
  referenceData(): { agencies: Array<Record<string, unknown>>; enterprises: Array<Record<string, unknown> & { enterprise_id: string }> };
  read(i: number): [string, string];
  isTrigger(k: number): boolean;
  isComplaint(k: number): boolean;
}

export const TRIGGER_AGE_MS: number;
export function triggerSentAt(alert: { first_seen_at: string }): number;
export function triggerOf(run: Run, alert: { enterprise_id: string }): { code: string; number: number } | null;
export function requestsPerMinute(plan: Plan): { INGEST: number; READ: number; HOTLINE: number };
export const INGEST_SCENARIOS: Record<'ingest_single' | 'ingest_batch', string>;
export function newRun(now: number, random: number): Run;
export function plannedIterations(scenario: ScenarioOptions): number;
export function seconds(text: string | number): number;
export function scenarioSeconds(scenario: ScenarioOptions): number;
export function eventsPerIteration(plan: Plan, scenarioName: string): number;
export function createTraffic(plan: Plan, run: Run): Traffic;
export function outcomeCounts(events: LoadEvent[], traffic: Traffic): { events: number; triggers: number; complaints: number };
export function listenerRegion(plan: Plan, vu: number): string;
