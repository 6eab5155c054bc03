import { WebSocket, type ClientOptions } from 'ws';
import { TEST_TOKEN } from './service.js';

/** A real WebSocket client of the live feed that records every message it receives. */
export interface FeedClient {
  ws: WebSocket;
  messages: any[];
  /** Alert messages received, in order. */
  alerts(): any[];
  subscribe(filters?: Record<string, unknown>, after?: string | null): void;
  /** Resolves with the first message (from the start of the recording) that satisfies `test`. */
  next(test: (message: any) => boolean, timeoutMs?: number, what?: string): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export const feedUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/v1/alerts/stream`;

export async function connectFeed(httpUrl: string, options: ClientOptions = {}): Promise<FeedClient> {
  const ws = new WebSocket(feedUrl(httpUrl), { perMessageDeflate: false, ...options, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...options.headers } });
  const messages: any[] = [];
  const alerts: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    messages.push(message);
    if (message.type === 'alert') alerts.push(message);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      for (const wake of waiters) wake();
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    alerts: () => alerts,
    subscribe(filters = {}, after = null) {
      ws.send(JSON.stringify({ type: 'subscribe', filters, after }));
    },
    next(test, timeoutMs = 20_000, what = 'message') {
      return new Promise((resolve, reject) => {
        // Each message is tested once, as it arrives (a flood of thousands stays linear).
        let scanned = 0;
        const check = () => {
          let found: any;
          while (found === undefined && scanned < messages.length) {
            const message = messages[scanned++];
            if (test(message)) found = message;
          }
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (ws.readyState === WebSocket.CLOSED) {
            done();
            reject(new Error(`feed closed before ${what} arrived (got ${messages.length} messages)`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((m) => [m.type, m.action ?? '', m.seq ?? '']))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => ws.close(),
  };
}
