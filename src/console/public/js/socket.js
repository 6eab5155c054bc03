/**
 * The live feed's WebSocket with reconnection: exponential backoff with
 * jitter (0.5 s doubling, capped at 10 s), an immediate retry when the
 * browser comes back online or the tab becomes visible, and a state the page
 * shows: connecting → connected → reconnecting → (after 30 s down) disconnected.
 *
 * It knows nothing of alerts: `onOpen(hello)` runs when the server's hello
 * arrives on a fresh connection; `onMessage(msg)` gets every later message.
 *
 * The access token goes as a subprotocol (browsers cannot set headers on a
 * WebSocket): ['qingjian.v1', 'bearer.<token>']. A refused token fails the
 * upgrade, which the page only sees as a connection that never opened; so
 * when that happens repeatedly with a token the API has answered 401 to, it
 * waits for the sign-in dialog instead of reconnecting forever. Refused
 * repeatedly for no reason it knows, it calls `onRefused()` (at most every
 * 30 s) so the page can ask the API why.
 */
import { currentToken, isRefused, token as signedInToken } from './auth.js';

export const PROTOCOL = 'qingjian.v1';
const BASE_MS = 500;
const CAP_MS = 10_000;
const OPEN_TIMEOUT_MS = 10_000;
const DOWN_AFTER_MS = 30_000;
/** Upgrades refused in a row before the token is suspected. */
const REFUSALS = 2;
const PROBE_EVERY_MS = 30_000;

export function backoff(attempt, random = Math.random) {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** attempt);
  // "Equal jitter": at least half the ceiling, so retries spread out but never hammer.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class FeedSocket {
  constructor({ path, onOpen, onMessage, onState, onRefused }) {
    this.path = path;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onRefused = onRefused;
    this.refusals = 0;
    this.probedAt = 0;
    this.waiting = false;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.openTimer = null;
    this.downSince = null;
    this.stopped = true;
    this.state = 'idle';
    this.retryAt = null;
    this.connection = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    addEventListener('online', this.#nudge);
    document.addEventListener('visibilitychange', this.#nudge);
    this.#connect();
  }

  stop() {
    this.stopped = true;
    removeEventListener('online', this.#nudge);
    document.removeEventListener('visibilitychange', this.#nudge);
    clearTimeout(this.timer);
    clearTimeout(this.openTimer);
    this.ws?.close(1000, 'page closed');
    this.ws = null;
    this.retryAt = null;
    this.#setState('disconnected');
  }

  /** Sends a message if connected; false otherwise (the next onOpen will resend what matters). */
  send(message) {
    if (this.ws?.readyState !== WebSocket.OPEN || this.state !== 'connected') return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  get connected() {
    return this.state === 'connected';
  }

  #nudge = () => {
    if (this.stopped || document.visibilityState === 'hidden') return;
    if (this.ws === null && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.#connect();
    }
  };

  #connect() {
    this.timer = null;
    if (this.stopped) return;
    const url = new URL(this.path, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = currentToken();
    if (!token) {
      this.#awaitSignIn();
      return;
    }
    const id = ++this.connection;
    let ws;
    try {
      ws = new WebSocket(url, [PROTOCOL, `bearer.${token}`]);
    } catch {
      this.#retry(token, true);
      return;
    }
    this.ws = ws;
    if (this.state !== 'reconnecting' && this.state !== 'disconnected') this.#setState('connecting');
    let greeted = false;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
    });
    this.openTimer = setTimeout(() => ws.close(4000, 'no hello in time'), OPEN_TIMEOUT_MS);
    ws.addEventListener('message', (ev) => {
      if (id !== this.connection) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!greeted && msg.type === 'hello') {
        greeted = true;
        clearTimeout(this.openTimer);
        this.attempt = 0;
        this.refusals = 0;
        this.downSince = null;
        this.retryAt = null;
        this.#setState('connected');
        this.onOpen?.(msg, id);
        return;
      }
      this.onMessage?.(msg, id);
    });
    ws.addEventListener('close', () => {
      clearTimeout(this.openTimer);
      if (id !== this.connection) return;
      this.ws = null;
      if (!this.stopped) this.#retry(token, !opened);
    });
    // 'error' is always followed by 'close'.
  }

  /** After a connection ends: back off and connect again, or wait for sign-in if the token is what is refused. */
  #retry(used, refused = false) {
    this.refusals = refused ? this.refusals + 1 : 0;
    const now = currentToken();
    if (this.refusals >= REFUSALS && (!now || isRefused(used))) {
      this.#awaitSignIn();
      return;
    }
    if (now && now !== used) {
      // Signed in again meanwhile: the new token gets a fresh start.
      this.attempt = 0;
      this.refusals = 0;
    } else if (this.refusals > REFUSALS && Date.now() - this.probedAt > PROBE_EVERY_MS) {
      this.probedAt = Date.now();
      this.onRefused?.();
    }
    this.downSince ??= Date.now();
    const delay = backoff(this.attempt++);
    this.retryAt = Date.now() + delay;
    const down = Date.now() - this.downSince > DOWN_AFTER_MS || navigator.onLine === false;
    this.#setState(down ? 'disconnected' : 'reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#connect(), delay);
  }

  /** Connects again once the sign-in dialog has a token (the API's 401 has already opened it, or this does). */
  #awaitSignIn() {
    if (this.waiting) return;
    this.waiting = true;
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
    this.#setState('signed-out');
    signedInToken().then(() => {
      this.waiting = false;
      this.attempt = 0;
      this.refusals = 0;
      this.downSince = null;
      if (!this.stopped) this.#connect();
    });
  }

  #setState(state) {
    this.state = state;
    this.onState?.(state, { retryAt: this.retryAt, attempt: this.attempt });
  }
}
