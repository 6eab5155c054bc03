/**
 * The live feed's WebSocket with reconnection: exponential backoff with
 * jitter (0.5 s doubling, capped at 10 s), an immediate retry when the
 * browser comes back online or the tab becomes visible, and a state the page
 * shows: connecting → connected → reconnecting → (after 30 s down) disconnected.
 *
 * It knows nothing of alerts: `onOpen(hello)` runs when the server's hello
 * arrives on a fresh connection; `onMessage(msg)` gets every later message.
 */
const BASE_MS = 500;
const CAP_MS = 10_000;
const OPEN_TIMEOUT_MS = 10_000;
const DOWN_AFTER_MS = 30_000;

export function backoff(attempt, random = Math.random) {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** attempt);
  // "Equal jitter": at least half the ceiling, so retries spread out but never hammer.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class FeedSocket {
  constructor({ path, onOpen, onMessage, onState }) {
    this.path = path;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onState = onState;
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
    const id = ++this.connection;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.#retry();
      return;
    }
    this.ws = ws;
    if (this.state !== 'reconnecting' && this.state !== 'disconnected') this.#setState('connecting');
    let greeted = false;
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
      if (!this.stopped) this.#retry();
    });
    // 'error' is always followed by 'close'.
  }

  #retry() {
    this.downSince ??= Date.now();
    const delay = backoff(this.attempt++);
    this.retryAt = Date.now() + delay;
    const down = Date.now() - this.downSince > DOWN_AFTER_MS || navigator.onLine === false;
    this.#setState(down ? 'disconnected' : 'reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#connect(), delay);
  }

  #setState(state) {
    this.state = state;
    this.onState?.(state, { retryAt: this.retryAt, attempt: this.attempt });
  }
}
