export { createAlertStore, enterpriseLock, type AlertStore, type AlertFilters, type AlertPage, type EvidenceEvent } from './store.js';
export { alertRoutes, AlertListParams, AckBody, ResolveBody, ReopenBody } from './routes.js';
export * from './model.js';
export * from './lifecycle.js';
