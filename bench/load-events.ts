/**
 * The events the ingest benchmark's load client posts (and the bare stack's, for the same bodies).
 */
import { createWorld, generateEvents } from '../src/demo/index.js';
import type { EventInput } from '../src/ingest/schema.js';

/**
 * The first `count` events of a demo history (seed `seed`, 1,000 companies a region, 400 visits a day, ending
 * 2026-11-01) long enough to hold them, with the generator's own ids under `idPrefix`. The ids are not rewritten: a
 * check-in or record names its plan by the plan's id (`plan_id`), and a renamed plan leaves its visits unplanned.
 * Until 2026-12-06 the load renamed every event, and a quarter of the batched phase's events raised alerts.
 */
export function loadEvents(options: { seed: number; count: number; idPrefix: string }): EventInput[] {
  const world = createWorld({ seed: options.seed, enterprisesPerRegion: 1000 });
  const to = new Date('2026-11-01T00:00:00+08:00');
  // About 2,000 events a day at 400 visits a day: a third more days than that needs.
  const days = Math.max(30, Math.ceil(options.count / 1500));
  const source = generateEvents(world, {
    seed: options.seed, from: new Date(to.getTime() - days * 86_400_000), to, visitsPerDay: 400, idPrefix: options.idPrefix,
  });
  if (source.length < options.count) throw new Error(`generated ${source.length} events, ${options.count} needed`);
  return source.slice(0, options.count);
}
