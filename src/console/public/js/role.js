/**
 * Who is signed in (GET /v1/me: the person, unit, role and jurisdiction), and
 * so what the console shows.
 */
import { loadMe } from './actor.js';
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

/** { role, name, unit, shared, jurisdiction, scope }: scope.views in tab order, scope.landing, scope.act, scope.silences. */
export async function whoAmI() {
  const me = await loadMe();
  return {
    role: me.role,
    name: me.name,
    unit: me.unit,
    shared: me.shared,
    jurisdiction: me.jurisdiction,
    scope: ROLE_SCOPE[me.role] ?? NONE,
  };
}

/** The header's line: 王敏 · 市纪委监委 · 德州市, the role where no unit is given, and (共用令牌) for an office's shared token. */
export function describeWho(who, regionName = (c) => c) {
  const line = [who.name, who.unit || tokenRole(who.role), who.jurisdiction && who.jurisdiction !== '*' ? regionName(who.jurisdiction) : '']
    .filter(Boolean).join(' · ');
  return who.shared ? `${line}（共用令牌）` : line;
}

/** On hover: the role, the jurisdiction, and under whose name actions are recorded. */
export function describeWhoInFull(who, regionName = (c) => c) {
  return [`当前登录：${who.name}`, `角色：${tokenRole(who.role)}`, `辖区：${who.jurisdiction ? regionName(who.jurisdiction) : '全部'}`,
    who.shared ? '共用令牌：操作以本办公室名义记录' : '操作以本人名义记录'].join('；');
}
