/**
 * Who may do what. A token carries one role; its jurisdiction (a division-code
 * prefix) narrows what it sees. `admin` may do everything.
 */
export const ROLES = ['ingest', 'discipline', 'justice', 'hotline', 'enterprise', 'coordination', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'events:write' | 'complaints:write' | 'reference:write' | 'reference:read'
  | 'alerts:read' | 'alerts:act' | 'silences:read' | 'silences:write' | 'feed:read'
  | 'rules:read' | 'rules:backtest' | 'tickets:read' | 'tickets:act'
  | 'timeline:read' | 'timeline:own' | 'tokens:admin' | 'audit:read' | 'backups:write' | 'stats:read'
  | 'plans:check' | 'plans:read' | 'plans:coordinate';

const GRANTS: Record<Exclude<Role, 'admin'>, readonly Permission[]> = {
  // The platforms that send events and keep reference data current.
  ingest: ['events:write', 'reference:write', 'plans:check'],
  // 纪委监委: alerts with their evidence, acting on them, silences, the live feed.
  discipline: ['alerts:read', 'alerts:act', 'feed:read', 'silences:read', 'silences:write', 'rules:read', 'reference:read', 'timeline:read', 'stats:read', 'plans:read'],
  // 司法局: reads alerts, statistics and reference data, tries rule changes on history; changes nothing.
  justice: ['alerts:read', 'feed:read', 'reference:read', 'rules:read', 'rules:backtest', 'timeline:read', 'stats:read', 'plans:read'],
  // 12345: the ticket queue, and complaints taken on the phone.
  hotline: ['tickets:read', 'tickets:act', 'complaints:write', 'reference:read', 'timeline:read'],
  // A company: its own public record, nothing else.
  enterprise: ['timeline:own'],
  // 统筹: the office that coordinates inspections (云和 县综合执法办, 莆田 乡镇协同中心): checks plans, sees the
  // upcoming ones with their checks and the plan-overlap advice in the feed, and sends suggestions to the agencies.
  coordination: ['plans:check', 'plans:read', 'plans:coordinate', 'alerts:read', 'feed:read', 'reference:read', 'rules:read'],
};

export function can(role: Role, permission: Permission): boolean {
  return role === 'admin' || GRANTS[role].includes(permission);
}
