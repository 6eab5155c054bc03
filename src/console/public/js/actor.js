/**
 * Who is signed in: the holder of the token, as GET /v1/me answers. The service
 * records every action under this person, so the console shows who that is
 * and sends no name of its own.
 */
import { api } from './api.js';

const ROLE = { discipline: '纪委监委', justice: '司法局', hotline: '12345 热线', enterprise: '企业', ingest: '数据接入', admin: '管理员' };
let me = null;

/** Shows the signed-in person (name · unit) in `el`, with role and jurisdiction on hover. */
export async function showMe(el) {
  me = await api.get('/v1/me');
  el.textContent = `${me.name}${me.unit ? ` · ${me.unit}` : ''}${me.shared ? '（共用令牌）' : ''}`;
  el.title = [`角色：${ROLE[me.role] ?? me.role}`, `辖区：${me.jurisdiction || '全部'}`,
    me.shared ? '共用令牌：操作以本办公室名义记录' : '操作以本人名义记录'].join('；');
  el.hidden = false;
  return me;
}

/** The signed-in person's name ('' until GET /v1/me has answered). */
export const actorName = () => me?.name ?? '';
