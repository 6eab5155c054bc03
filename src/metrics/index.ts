/** Prometheus metrics: one registry per process, served at `GET /metrics`. */
export { createMetrics, type Metrics, type FeedStats } from './registry.js';
export { httpMetrics } from './http.js';
export { metricsRoutes, serveMetrics } from './routes.js';
export { startSampler } from './sampler.js';
