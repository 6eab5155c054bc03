export { createReferenceStore, type ReferenceStore } from './store.js';
export { referenceRoutes } from './routes.js';
export { createOfficerStore, type OfficerStore } from './officer-store.js';
export { officerRoutes } from './officer-routes.js';
export { createHomes, type HomeKind, type Homes } from './homes.js';
export { createReferenceFacts, MAX_REMEMBERED_FACTS, type ReferenceFacts } from './facts.js';
