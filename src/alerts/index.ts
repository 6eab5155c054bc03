export { createAlertMemory, createAlertStore, enterpriseLock, type AlertOutlet, type AlertStore, type AlertFilters, type AlertPage, type EvidenceEvent } from './store.js';
export { alertRoutes, AlertListParams, AckBody, ResolveBody, ReopenBody } from './routes.js';
export { createSilenceStore, silenceMatches, SILENCE_REFRESH_MS, type Silence, type SilenceStore } from './silences.js';
export { silenceRoutes, CreateSilenceBody, ExpireSilenceBody, SilenceListParams } from './silence-routes.js';
export { deliverable, route, type Inhibitor } from './routing.js';
export { startEscalationWorker, MAX_ESCALATION } from './escalation.js';
export * from './model.js';
export * from './lifecycle.js';
