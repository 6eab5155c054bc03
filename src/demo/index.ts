/** Seeded synthetic data for tests, benchmarks and the live demo. */
export { createRandom, type Random } from './random.js';
export { createWorld, type World, type WorldOptions } from './world.js';
export type { DemoRegion } from './catalogue.js';
export { generateEvents, type EventOptions } from './events.js';
export { liveEvents, type LiveOptions } from './live.js';
