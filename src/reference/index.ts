export { createReferenceStore, type ReferenceStore } from './store.js';
export { referenceRoutes } from './routes.js';
export { createHomes, HOME_CHECK_MS, type HomeKind, type Homes } from './homes.js';
