/**
 * A mergeable latency histogram with log buckets (≤ 1% relative error), so
 * millions of samples, and samples from child processes, cost a few hundred
 * numbers. Values in milliseconds.
 */
const GROWTH = Math.log(1.01);
const FLOOR = 0.01;

export type Buckets = Record<number, number>;

const bucketOf = (ms: number) => (ms <= FLOOR ? 0 : Math.ceil(Math.log(ms / FLOOR) / GROWTH));
const upperBound = (bucket: number) => FLOOR * Math.exp(bucket * GROWTH);

export class Histogram {
  readonly buckets = new Map<number, number>();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(ms: number): void {
    const b = bucketOf(ms);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram | SerializedHistogram): void {
    const buckets = other.buckets instanceof Map ? other.buckets.entries() : Object.entries(other.buckets);
    for (const [b, n] of buckets) this.buckets.set(Number(b), (this.buckets.get(Number(b)) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** The p-th percentile (0–100), within 1%; exact at the extremes. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      seen += this.buckets.get(b)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperBound(b)));
    }
    return this.max;
  }

  /** The values k6 reports for a trend (summaryTrendStats). */
  trendValues(): Record<string, number> {
    if (this.count === 0) return { avg: 0, min: 0, med: 0, max: 0, 'p(90)': 0, 'p(95)': 0, 'p(99)': 0, count: 0 };
    return {
      avg: this.sum / this.count, min: this.min, med: this.percentile(50), max: this.max,
      'p(90)': this.percentile(90), 'p(95)': this.percentile(95), 'p(99)': this.percentile(99), count: this.count,
    };
  }

  toJSON(): SerializedHistogram {
    return { buckets: Object.fromEntries(this.buckets), count: this.count, sum: this.sum, min: this.min, max: this.max };
  }

  static from(serialized: SerializedHistogram): Histogram {
    const h = new Histogram();
    h.merge(serialized);
    return h;
  }
}

export interface SerializedHistogram {
  buckets: Buckets;
  count: number;
  sum: number;
  min: number;
  max: number;
}
