export { createReferenceStore, type ReferenceStore } from './store.js';
export { referenceRoutes } from './routes.js';
export { createHomes, type HomeKind, type Homes } from './homes.js';
