/** The plan check (prevention before the visit) and the coordination office's view of plans. */
export { checkPlan, ADVANCE_NOTICE } from './check.js';
export { createPlanChecker, type PlanChecker } from './checker.js';
export { createMattersReader } from './store.js';
export { startPlanCheckWorker, type PlanCheckWorker } from './worker.js';
export { planRoutes, type PlanRoutesOptions } from './routes.js';
export * from './model.js';
