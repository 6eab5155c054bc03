export { createReferenceStore, type ReferenceStore } from './store.js';
export { referenceRoutes } from './routes.js';
