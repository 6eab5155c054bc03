/**
 * The person on duty (值班人员): typed once, kept in localStorage, sent as
 * `actor` with every action.
 */
const KEY = 'qj.actor';
let input;

export function initActor(el) {
  input = el;
  input.value = localStorage.getItem(KEY) ?? '';
  const save = () => {
    const name = input.value.trim();
    if (name) localStorage.setItem(KEY, name);
    else localStorage.removeItem(KEY);
    input.classList.toggle('missing', !name);
  };
  input.addEventListener('change', save);
  input.addEventListener('input', () => input.classList.remove('missing'));
  input.classList.toggle('missing', !input.value.trim());
}

export const actorName = () => (input?.value ?? localStorage.getItem(KEY) ?? '').trim();

/** The actor's name, or null after pointing the user at the field. */
export function requireActor(report) {
  const name = actorName();
  if (name) {
    localStorage.setItem(KEY, name);
    return name;
  }
  input?.classList.add('missing');
  input?.focus();
  report?.('请先在页面右上角填写「值班人员」姓名，再进行操作。');
  return null;
}
