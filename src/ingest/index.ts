export { Event, Enterprise, Agency, Officer, EVENT_TYPES, ENTERPRISE_STATUSES, EnterpriseId, AgencyId, OfficerId } from './schema.js';
export type { EventInput } from './schema.js';
export { creditCodeProblem, creditCodeCheckChar, isCreditCode } from './credit-code.js';
export { batchBody, batchErrors, batchItem, readValidBatch } from './batch.js';
export { createSeenIds, seenKey } from './seen-ids.js';
export { createEventAcceptor, senderKey, type EventAcceptor, type Acceptance } from './accept.js';
export { ingestRoutes } from './routes.js';
