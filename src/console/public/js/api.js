/**
 * The service's HTTP API, same origin, with the access token on every call.
 * A 401 opens the sign-in dialog and the call is sent again with the new token
 * (the server refuses before doing anything, so a POST is safe to repeat).
 * Errors become ApiError with a readable Chinese message.
 */
import * as auth from './auth.js';
import { denied } from './labels.js';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super(describe(status, body, fallback));
    this.status = status;
    this.body = body;
  }
}

const FIELD = {
  actor: '操作人', note: '备注', code: '处理结论', reason: '原因', duration_minutes: '时长', matchers: '静默范围',
  category: '分类', to: '转办对象', outcome: '办结结果', text: '内容', created_by: '操作人',
  enterprise: '企业（请从候选中选择，或输入统一社会信用代码）', from: '开始日期', region: '地区', agency: '执法部门', rule: '规则',
};

function describe(status, body, fallback) {
  const error = body && typeof body === 'object' ? body.error : undefined;
  const detail = body && typeof body === 'object' && typeof body.message === 'string' ? body.message : '';
  const fields = Array.isArray(body?.errors)
    ? body.errors.map((e) => `${FIELD[e.field] ?? e.field ?? ''} ${e.message ?? ''}`.trim()).join('；')
    : '';
  if (status === 0) return `无法连接服务（${fallback || '网络错误'}），请稍后重试`;
  if (status === 409) {
    const holder = body?.claimed_by ? `（当前由「${body.claimed_by}」办理）` : '';
    return `操作冲突：状态已被他人改变${holder}。${detail}`;
  }
  if (status === 400 || status === 422) return `填写有误：${fields || detail || '请求无效'}`;
  if (status === 403) return denied(detail);
  if (status === 404) return `未找到：${detail || '对象不存在'}`;
  if (status === 503) return `服务暂时繁忙，请稍后重试。${detail}`;
  if (status === 413) return '内容过长';
  if (status >= 500) return `服务出错（${status}）${detail ? `：${detail}` : ''}`;
  return `请求失败（${status}${error ? ` ${error}` : ''}）${detail ? `：${detail}` : ''}`;
}

async function request(method, path, body) {
  for (;;) {
    const token = await auth.token();
    const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, null, err?.message);
    }
    if (res.status === 401) {
      await res.body?.cancel().catch(() => {});
      await auth.unauthorized(token);
      continue;
    }
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) throw new ApiError(res.status, parsed, text.slice(0, 200));
    return parsed;
  }
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body = {}) => request('POST', path, body),
};

/** A query string from the entries that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

const rules = new Map();
let ruleList;
/** The rule set, once per page (GET /v1/rules). */
export function listRules() {
  ruleList ??= api.get('/v1/rules').then((r) => r.rules ?? []).catch((err) => {
    ruleList = undefined;
    throw err;
  });
  return ruleList;
}
/** One rule with its text (GET /v1/rules/{id}), cached for the page's life. */
export function getRule(id) {
  if (!rules.has(id)) {
    rules.set(id, api.get(`/v1/rules/${encodeURIComponent(id)}`).catch((err) => {
      rules.delete(id);
      throw err;
    }));
  }
  return rules.get(id);
}
