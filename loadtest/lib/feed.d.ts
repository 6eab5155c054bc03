// Types for feed.js (plain JavaScript so k6 can run it), for the tests.
import type { Plan, ScenarioOptions } from './traffic.js';

export function feedCloseAt(scenario: ScenarioOptions, scenarioStartMs: number): number;
export function reconnectDelaySeconds(failures: number, random: number): number;
export function subscribeMessage(region: string, after: string | null): string;
export function missedAlerts(plan: Plan, city: string, receivedByCode: Record<string, Set<number>>): number;
