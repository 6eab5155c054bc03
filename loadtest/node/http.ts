/** Keep-alive HTTP for the twin's virtual users (one agent, like k6's connection reuse). */
import { Agent, request as httpRequest } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

export function request(method: string, url: string, token: string, body?: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
    });
    // A refused or reset connection is a failed request (status 0), as in k6.
    req.on('error', (err) => resolve({ status: 0, body: err.message, ms: performance.now() - started }));
    req.end(body);
  });
}

export function closeAgent(): void {
  agent.destroy();
}
