import { Agent, request } from 'node:http';
import { benchAuth } from './token.js';

export interface Answer {
  status: number;
  text: string;
}

/**
 * The benchmarks' way of sending: JSON POSTs with the bench token over kept-alive sockets. A request that fails with
 * ECONNRESET on a reused socket was sent as the service closed that idle socket (it closes them after 5 s, as between
 * phases), so the service never saw it: it is sent again, as Node's documentation advises (`reusedSocket`) and as any
 * client of an idempotent API would. Any other failure answers status 0 with its message.
 */
export function createPoster(maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  /** `onWrite`: called as the request is written (each time it is). */
  function post(url: URL, body: string, onWrite?: () => void): Promise<Answer> {
    return new Promise((resolve) => {
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...benchAuth };
      const req = request(url, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && err.code === 'ECONNRESET') void post(url, body, onWrite).then(resolve);
        else resolve({ status: 0, text: err.message });
      });
      onWrite?.();
      req.end(body);
    });
  }
  return { post, close: () => agent.destroy() };
}
