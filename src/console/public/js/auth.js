/**
 * Sign-in: the access token the console sends with every API call and the
 * feed. It lives in sessionStorage ('qingjian.token', this tab only). Without
 * one — or when the API answers 401 — the sign-in dialog asks for one; every
 * call waiting for it goes on once a token is accepted. `#token=<token>` in
 * the address signs in once (the token is then removed from the address bar).
 */
import { h } from './dom.js';

const KEY = 'qingjian.token';
/** Set by 退出 just before the reload, so the dialog can say why it is there. */
const SIGNED_OUT_KEY = 'qingjian.signed-out';
/** `qjt_<43 base64url>`, or a bootstrap token: 32+ characters of [A-Za-z0-9._~-]. */
const TOKEN_RE = /^[A-Za-z0-9._~-]{32,512}$/;
/** Any API route tells a bad token (401) from a good one (anything else); the rule set is cheap to read. */
const VERIFY_PATH = '/v1/rules';

let pending = null;
let refused = null;
/** 退出 was pressed: the page is reloading, and nothing left on it may ask for a token. */
let leaving = false;

function read() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The stored token, or null. */
export const currentToken = () => read() || null;

/** Has the API refused this token (401)? */
export const isRefused = (token) => token !== null && token === refused;

/** Takes `#token=…` (also `#hotline&token=…`) from the address once: stores it and removes it from the address bar. */
export function takeTokenFromUrl() {
  const parts = location.hash.replace(/^#/, '').split('&');
  const found = parts.find((p) => p.startsWith('token='));
  if (found === undefined) return;
  let token = '';
  try {
    token = decodeURIComponent(found.slice('token='.length)).trim();
  } catch { /* a broken escape: treated as no token */ }
  try {
    // Only something that can be a token: anything else would break the header and the subprotocol.
    if (TOKEN_RE.test(token)) sessionStorage.setItem(KEY, token);
  } catch { /* storage refused: the dialog will ask */ }
  const rest = parts.filter((p) => p !== found && p !== '').join('&');
  // replaceState: the address with the token leaves this tab's history, too.
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}

/** The token to send; asks for one first when there is none. */
export function token() {
  return Promise.resolve(currentToken() ?? signIn());
}

/** The API answered 401 to `used`: forget it (unless another has replaced it) and wait for a good one. */
export function unauthorized(used) {
  refused = used;
  if (currentToken() === used) sessionStorage.removeItem(KEY);
  return token();
}

/** 退出: forget the token and start over, so nothing the old token read stays on the page or on the wire. */
export function signOut() {
  leaving = true;
  sessionStorage.removeItem(KEY);
  sessionStorage.setItem(SIGNED_OUT_KEY, '1');
  location.reload();
}

/** Shows the sign-in dialog (once, however many callers wait); resolves with the accepted token. */
export function signIn() {
  // A call still running on the page being left (a feed reconnecting, a refresh) would open the dialog here and take
  // the reason meant for the page after the reload, which then said nothing (seen once in CI).
  if (leaving) return new Promise(() => {});
  pending ??= new Promise((resolve) => openDialog(resolve)).finally(() => {
    pending = null;
  });
  return pending;
}

function why() {
  if (sessionStorage.getItem(SIGNED_OUT_KEY)) {
    sessionStorage.removeItem(SIGNED_OUT_KEY);
    return '已退出登录。';
  }
  return refused ? '访问令牌无效、已过期或已被吊销，请重新登录。' : '';
}

async function verify(candidate) {
  let res;
  try {
    res = await fetch(VERIFY_PATH, { headers: { accept: 'application/json', authorization: `Bearer ${candidate}` }, cache: 'no-store' });
  } catch {
    return '无法连接服务，请检查网络后重试。';
  }
  if (res.status === 401) return '令牌无效、已过期或已被吊销，请核对后重试。';
  if (res.status === 503 || res.status >= 500) return `服务暂时不可用（${res.status}），请稍后重试。`;
  // 200, or 403 (a good token whose role may not read rules): the token is known.
  return null;
}

function openDialog(resolve) {
  const reason = why();
  const input = h('input', {
    type: 'password', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    maxlength: '600', placeholder: 'qjt_…', 'aria-describedby': 'signin-hint',
  });
  const error = h('p', { class: 'action-message', role: 'alert', hidden: true, dataset: { kind: 'error' } });
  const submit = h('button', { type: 'submit', class: 'primary' }, '登录');
  const dialog = h('dialog', { id: 'signin', class: 'dialog signin', 'aria-labelledby': 'signin-title' },
    h('form', { novalidate: true },
      h('h2', { id: 'signin-title' }, '请输入访问令牌'),
      reason && h('p', { class: 'signin-reason' }, reason),
      h('label', { class: 'label' }, '访问令牌', input),
      h('p', { id: 'signin-hint', class: 'muted small' },
        '令牌由系统管理员发放（管理员执行 ', h('code', {}, 'qingjian tokens create'), ' 生成）。令牌只保存在本标签页，关闭标签页后需重新输入。'),
      error,
      h('div', { class: 'action-row' }, submit)));

  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    input.select();
  };
  // Without a token there is nothing to go back to: Esc does not close the dialog (and if it does, it opens again).
  dialog.addEventListener('cancel', (ev) => ev.preventDefault());
  let done = false;
  dialog.addEventListener('close', () => {
    if (!done) dialog.showModal();
  });
  dialog.querySelector('form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const candidate = input.value.trim().replace(/^Bearer\s+/i, '');
    if (!candidate) return fail('请输入访问令牌。');
    if (!TOKEN_RE.test(candidate)) return fail('令牌格式不正确：应为 qjt_ 开头的一串字母、数字和符号，请完整复制。');
    submit.disabled = true;
    submit.textContent = '正在验证…';
    const problem = await verify(candidate);
    submit.disabled = false;
    submit.textContent = '登录';
    if (problem) return fail(problem);
    sessionStorage.setItem(KEY, candidate);
    if (refused === candidate) refused = null;
    done = true;
    dialog.close();
    dialog.remove();
    document.body.classList.remove('signed-out');
    resolve(candidate);
  });

  // What the page showed stays hidden while nobody is signed in; the header says so (app.js listens).
  document.body.classList.add('signed-out');
  document.dispatchEvent(new Event('qingjian:signed-out'));
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}
