export * from './model.js';
export { TicketConflict, type TicketRevision } from './lifecycle.js';
export { createTicketStore, type TicketStore, type TicketFilters, type TicketPage } from './store.js';
export { enqueueAlertTickets, enqueueComplaintTickets, type HotlineQueue } from './queue.js';
export { hotlineSettings, SLA_RULE_ID, type HotlineSettings } from './sla.js';
export { startHotlineWorker, type HotlineWorker, type HotlineWorkerOptions } from './worker.js';
export {
  hotlineRoutes, TicketListParams, ClaimBody, ReleaseBody, AssignBody, CategoriseBody, NoteBody, ResolveTicketBody, ReopenTicketBody,
  type HotlineRoutesOptions,
} from './routes.js';
