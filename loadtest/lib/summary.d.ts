// Types for summary.js: the part of k6's end-of-test summary data the report reads.
export interface SummaryMetric {
  type: 'trend' | 'counter' | 'rate' | 'gauge';
  contains: 'time' | 'default' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  setup_data?: Record<string, unknown>;
  state?: { testRunDurationMs: number };
}

export function formatSummary(data: SummaryData): string;
export function thresholdLines(data: SummaryData): string[];
export function thresholdsPassed(data: SummaryData): boolean;
