export { timelineRoutes } from './routes.js';
export { readTimeline, type TimelinePage } from './store.js';
