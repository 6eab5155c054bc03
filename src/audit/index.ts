export {
  AUDIT_ACTIONS, AUDIT_TARGET_KINDS, NO_CONTEXT, actorOf, changedFields, revisionAudit, revisionAuditId, tokenAudit,
  type AuditAction, type AuditContext, type AuditEntry, type AuditTargetKind, type AuditedToken, type TokenChange,
} from './model.js';
export { createAuditLog, recordTokenChange, type AuditFilters, type AuditLog, type AuditPage, type AuditQuery } from './log.js';
export { auditContext } from './context.js';
export { auditRoutes, AuditListParams, type AuditRoutesOptions } from './routes.js';
