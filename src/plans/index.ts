/** The plan check (prevention before the visit) and the coordination office's view of plans. */
export { checkPlan, ADVANCE_NOTICE } from './check.js';
export { createPlanChecker, type PlanChecker } from './checker.js';
export { planRoutes, type PlanRoutesOptions } from './routes.js';
export * from './model.js';
