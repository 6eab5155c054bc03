/**
 * Who is signed in, and so what the console shows. The service's answer to
 * GET /v1/me names the person, role and jurisdiction where the service has it;
 * otherwise the role is read from what the token may read (a 403 is an
 * answer, not an error): alerts and silences is the discipline commission,
 * alerts and statistics without silences the justice bureau, alerts alone the
 * coordination office (统筹), tickets only 12345, both the administrator.
 */
import { api, ApiError, query } from './api.js';
import { tokenRole } from './labels.js';

/** What each role works with; views and actions outside it are hidden, never offered and refused. */
const ROLE_SCOPE = {
  admin: { views: ['feed', 'hotline', 'plans', 'justice', 'report', 'coordination', 'rules'], landing: 'feed', act: true, silences: true },
  discipline: { views: ['feed', 'plans', 'justice', 'report', 'coordination', 'rules'], landing: 'feed', act: true, silences: true },
  justice: { views: ['justice', 'feed', 'plans', 'report', 'coordination', 'rules'], landing: 'justice', act: false, silences: false },
  hotline: { views: ['hotline'], landing: 'hotline', act: false, silences: false },
  // 统筹 (the office that coordinates inspections): its plans first, and the feed's plan-overlap advice.
  coordination: { views: ['coordination', 'feed', 'rules'], landing: 'coordination', act: false, silences: false },
};
const NONE = { views: [], landing: null, act: false, silences: false };

/** Resolves to false on a 403, true on any other answer (the route is there for this token). */
async function allowed(path) {
  try {
    await api.get(path);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return false;
    return err instanceof ApiError && err.status !== 0;
  }
}

async function fromMe() {
  try {
    // Asked only where the service has it (its public API document says), so an older service logs no 404.
    const doc = await fetch('/openapi.json', { cache: 'no-store' }).then((res) => (res.ok ? res.json() : {}));
    if (!doc?.paths?.['/v1/me']) return null;
    const me = await api.get('/v1/me');
    return me && typeof me.role === 'string' ? me : null;
  } catch {
    return null; // a service without /v1/me: the role is read from the token's reach
  }
}

async function roleFromReach() {
  const [alerts, tickets, silences, stats] = await Promise.all([
    allowed(`/v1/alerts${query({ limit: 1 })}`),
    allowed(`/v1/hotline/tickets${query({ limit: 1 })}`),
    allowed('/v1/silences'),
    allowed('/v1/stats'),
  ]);
  if (alerts && tickets) return 'admin';
  if (alerts && silences) return 'discipline';
  if (alerts) return stats ? 'justice' : 'coordination';
  if (tickets) return 'hotline';
  return 'other';
}

/** { role, name, jurisdiction, scope }: scope.views in tab order, scope.landing, scope.act, scope.silences. */
export async function whoAmI() {
  const me = await fromMe();
  const role = me?.role ?? await roleFromReach();
  return {
    role,
    name: me?.name ?? me?.display_name ?? '',
    jurisdiction: me?.jurisdiction ?? '',
    scope: ROLE_SCOPE[role] ?? NONE,
  };
}

/** The header's line: 王敏 · 纪委监委 · 3714, or the role alone. */
export function describeWho(who, regionName = (c) => c) {
  return [who.name, tokenRole(who.role), who.jurisdiction && who.jurisdiction !== '*' ? regionName(who.jurisdiction) : '']
    .filter(Boolean).join(' · ');
}
