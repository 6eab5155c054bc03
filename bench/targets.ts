/**
 * Issue 17's targets, each with its floor, its goal and the figure the last run of its benchmark left in
 * bench/results/ (ingest.json, rules.json, backtest.json, feed.json, and load.json from `npm run bench:load`, the load test's
 * twin at the feed target's own rate and listeners): the last step of `npm run bench`. Writes
 * bench/results/targets.json. A row whose benchmark has not run says so; a figure measured on a smaller run
 * than the target names (a quick bench:rules, a feed with fewer listeners) says what it was measured on. Where the
 * bare stack measures the same thing (bench/results/bare-stack.json, `npm run bench:baseline`, the first step of
 * `npm run bench`), its figure and ours as a share of it are beside the row.
 *
 *   npx tsx bench/targets.ts
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RESULTS = join(import.meta.dirname, 'results');

interface Row {
  target: string;
  floor: string;
  goal: string;
  measured: string | null;
  /** met the goal, the floor only, or neither; null when not measured. */
  verdict: 'goal' | 'floor' | 'missed' | null;
  source: string;
  /** The bare stack's figure from bench/results/bare-stack.json (`npm run bench:baseline`), and ours as its share. */
  bare?: string;
}

type Json = Record<string, any>;

function load(name: string): { data: Json; at: string } | null {
  const file = join(RESULTS, `${name}.json`);
  if (!existsSync(file)) return null;
  return { data: JSON.parse(readFileSync(file, 'utf8')) as Json, at: statSync(file).mtime.toISOString().slice(0, 16).replace('T', ' ') };
}

/** Lower is better when `floor` > `goal` (latency, RSS), higher when `floor` < `goal` (throughput). */
function verdict(value: number, floor: number, goal: number): Row['verdict'] {
  const better = (a: number, b: number) => (floor > goal ? a <= b : a >= b);
  return better(value, goal) ? 'goal' : better(value, floor) ? 'floor' : 'missed';
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ingest = load('ingest');
const rules = load('rules');
const backtestRun = load('backtest');
const feed = load('feed');
const loadTest = load('load');
const bareStack = load('bare-stack');
/** `npm run bench` runs the bare stack at scale 1; a smaller run's figure is named as such. */
const bareScale = (bareStack?.data.scale as number | undefined) ?? null;
/** Ours beside the bare stack's (the same packages doing only accept → Redis → ClickHouse → push), as a share of it. */
const besideBare = (ours: number | undefined, bare: number | undefined, unit: string, higherIsBetter: boolean): string | undefined =>
  ours === undefined || bare === undefined ? undefined
    : `${fmt(bare)}${unit}${bareScale === 1 ? '' : ` (BENCH_SCALE=${bareScale ?? 'not recorded'})`}; ours ${higherIsBetter ? `${Math.round((100 * ours) / bare)}% of it` : `${(ours / bare).toFixed(1)}×`}`;
// `npm run bench` runs bench:ingest at BENCH_SCALE 1. A smaller run holds less in memory and sends wrk for less
// time, so its figures get no verdict, as a backtest over a smaller history gets none; nor do those of a
// run that recorded no scale (before 2026-12-06's ninth session).
const ingestScale = (ingest?.data.scale as number | undefined) ?? null;
const ingestFull = ingest === null || (ingestScale !== null && ingestScale >= 1);
const ingestSize = ingestFull ? '' : `; BENCH_SCALE=${ingestScale ?? 'not recorded'}, not npm run bench's 1`;
const phase = (rate: number) => (rules?.data.phases as Json[] | undefined)?.find((p) => p.rate === rate);
const source = (name: string, found: { at: string } | null) => (found ? `bench/results/${name}.json (${found.at} UTC)` : `not run: npm run bench:${name}`);
const rows: Row[] = [];

{
  const p = phase(1000);
  const size = rules ? `, ${fmt(rules.data.history.companies)} companies, ${fmt(rules.data.history.events)} events of history` : '';
  rows.push({
    target: 'event → alert stored, p99 at 1,000 events/s (bench:rules)', floor: '500 ms', goal: '250 ms',
    measured: p ? `${fmt(p.latencyMs.p99)} ms (p50 ${fmt(p.latencyMs.p50)} ms${size})` : null,
    verdict: p ? verdict(p.latencyMs.p99, 500, 250) : null, source: source('rules', rules),
  });
}
{
  const p = phase(5000);
  const drain = p?.drainSeconds as number | null | undefined;
  const ok = p ? [verdict(p.latencyMs.p99, 1000, 500), drain == null ? 'missed' : verdict(drain * 1000, 5000, 1000)] : [];
  rows.push({
    target: 'the same at 5,000 events/s, and the drain after the phase', floor: '1 s, < 5 s', goal: '500 ms, < 1 s',
    measured: p ? `${fmt(p.latencyMs.p99)} ms, drain ${drain == null ? 'none' : `${drain} s`}` : null,
    verdict: p ? (ok.includes('missed') ? 'missed' : ok.includes('floor') ? 'floor' : 'goal') : null, source: source('rules', rules),
  });
}
{
  const b = ingest?.data.batched as Json | undefined;
  rows.push({
    target: 'batched ingest, HTTP → rows stored and evaluated, events/s (bench:ingest)', floor: '20,000', goal: '50,000',
    // Runs before 2026-12-06's third session measured rows stored only: they name no evaluated rate, and get no verdict.
    measured: b ? `${b.eventsPerSecondHttpToEvaluated === undefined ? 'not measured' : fmt(b.eventsPerSecondHttpToEvaluated)} (stored: ${fmt(b.eventsPerSecondHttpToRows)}; HTTP p99 ${fmt(b.httpP99Ms)} ms${ingestSize})` : null,
    verdict: b && ingestFull && b.eventsPerSecondHttpToEvaluated !== undefined ? verdict(b.eventsPerSecondHttpToEvaluated, 20_000, 50_000) : null, source: source('ingest', ingest),
    bare: besideBare(b?.eventsPerSecondHttpToEvaluated, bareStack?.data.batched?.eventsPerSecond, ' events/s', true),
  });
}
{
  const w = (ingest?.data.singleFromWrk ?? null) as Json | null;
  const v = w ? [verdict(w.rps, 3000, 5000), verdict(w.p99Ms, 50, 25)] : [];
  rows.push({
    target: 'single-event requests (wrk), req/s with p99', floor: '3,000 at 50 ms', goal: '5,000 at 25 ms',
    measured: w ? `${fmt(w.rps)} req/s, p99 ${fmt(w.p99Ms)} ms${ingestSize}` : null,
    verdict: w && ingestFull ? (v.includes('missed') ? 'missed' : v.includes('floor') ? 'floor' : 'goal') : null,
    source: ingest && !w ? 'bench/results/ingest.json has no wrk run (apt-get install wrk)' : source('ingest', ingest),
    bare: besideBare(w?.rps, bareStack?.data.single?.rps, ` req/s, p99 ${bareStack?.data.single?.p99Ms ?? '?'} ms`, true),
  });
}
{
  // bench:rules backtests its own history; bench:backtest a kept one, often larger. The larger history speaks.
  const ofRun = (run: typeof rules, name: string) => (run ? { backtests: run.data.backtests as Json[], events: run.data.history.events as number, name, run } : null);
  const runs = [ofRun(rules, 'rules'), ofRun(backtestRun, 'backtest')].filter((r) => r !== null && r.backtests.length > 0);
  const chosen = runs.reduce<(typeof runs)[number] | null>((a, b) => (a && a.events >= b!.events ? a : b), null);
  const slowest = chosen?.backtests.reduce<Json | null>((a, b) => (a && a.seconds >= b.seconds ? a : b), null) ?? null;
  const full = chosen !== null && chosen.events >= 5_000_000;
  rows.push({
    target: 'backtest of one rule over 5,000,000 events (slowest rule)', floor: '10 s', goal: '5 s',
    measured: slowest ? `${slowest.seconds} s (${slowest.rule}) over ${fmt(chosen!.events)} events${full ? '' : ', not 5,000,000: run npm run bench:backtest'}; `
      + `${chosen!.backtests.filter((b) => b.seconds <= 10).length} of ${chosen!.backtests.length} rules within 10 s` : null,
    verdict: slowest && full ? verdict(slowest.seconds, 10, 5) : null, source: chosen ? source(chosen.name, chosen.run) : source('backtest', null),
  });
}
{
  const peaks = [
    ingest && [`bench:ingest${ingestFull ? '' : ` (BENCH_SCALE=${ingestScale ?? 'not recorded'})`}`, ingest.data.peakRssMiB as number],
    rules && ['bench:rules (live phases)', rules.data.peakRssMiB.livePhases as number],
    feed?.data.live?.service?.peakRssMiB !== undefined && ['bench:feed', feed!.data.live.service.peakRssMiB as number],
    backtestRun && ['bench:backtest', backtestRun.data.peakRssMiB as number],
  ].filter(Boolean) as Array<[string, number]>;
  const worst = peaks.reduce<[string, number] | null>((a, b) => (a && a[1] >= b[1] ? a : b), null);
  rows.push({
    target: 'peak RSS under any of these', floor: '1 GiB', goal: '600 MiB',
    measured: worst ? `${fmt(worst[1])} MiB (${worst[0]}; ${peaks.map(([n, v]) => `${n} ${fmt(v)}`).join(', ')})` : null,
    verdict: worst && ingestFull ? verdict(worst[1], 1024, 600) : null, source: peaks.length > 0 ? 'bench/results/{ingest,rules,feed,backtest}.json' : 'not run',
  });
}
{
  // The load test at the target's rate and listeners when it has run; else bench:feed, which says what it measured.
  const latency = loadTest?.data.metrics?.alert_latency?.values as Json | undefined;
  const l = feed?.data.live as Json | undefined;
  const clients = l?.settings?.clients as number | undefined;
  const target = 'event → WebSocket client, p99 at 1,000 events/s with 1,000 listeners';
  rows.push(latency
    ? {
      target: `${target} (npm run bench:load)`, floor: '500 ms', goal: '250 ms',
      measured: `${fmt(latency['p(99)'])} ms (p50 ${fmt(latency['p(50)'])} ms, loadtest/target-1000.json)`,
      verdict: verdict(latency['p(99)'], 500, 250), source: source('load', loadTest),
      bare: besideBare(latency['p(99)'], bareStack?.data.push?.p99Ms, ' ms p99 (one listener)', false),
    }
    : {
      target: `${target} (bench:feed)`, floor: '500 ms', goal: '250 ms',
      measured: l ? `${fmt(l.latencyMs.p99)} ms (p50 ${fmt(l.latencyMs.p50)} ms, ${fmt(clients ?? 0)} listeners at ${fmt(l.settings.rate)} events/s)` : null,
      verdict: l ? verdict(l.latencyMs.p99, 500, 250) : null, source: source('feed', feed),
    });
}

const mark = { goal: 'goal met', floor: 'floor met', missed: '**missed**' } as const;
console.log('\n| target | floor | goal | measured | verdict | the bare stack | from |\n| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.target} | ${r.floor} | ${r.goal} | ${r.measured ?? '—'} | ${r.verdict ? mark[r.verdict] : 'not measured'} | ${r.bare ?? '—'} | ${r.source} |`);
}
console.log(`\nThe bare stack: ${bareStack ? source('bare-stack', bareStack) : 'not run (npm run bench:baseline)'}.`);
writeFileSync(join(RESULTS, 'targets.json'), `${JSON.stringify({ at: new Date().toISOString(), rows, bareStackAt: bareStack?.at ?? null }, null, 2)}\n`);
console.log('\nWritten bench/results/targets.json.');
