/** Bearer tokens, roles, and the access rules routes declare. */
export { authenticate, bearerToken, callerOf, principalOf } from './middleware.js';
export { ensureBootstrapToken } from './bootstrap.js';
export { emptyPage, jurisdictionOf, narrowRegion, outsideMessage, refuseOutside, within, type OutsideItem } from './jurisdiction.js';
export { accessOf, requires, routeAccess, type Access } from './policy.js';
export { createRateLimiter, rateLimit, type RateLimiter } from './rate-limit.js';
export { ROLES, can, type Role, type Permission } from './roles.js';
export { tokenRoutes } from './routes.js';
export { createTokenStore, type Principal, type TokenRecord, type TokenStore } from './tokens.js';
