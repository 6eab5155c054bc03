import { Agent } from 'node:http';

/**
 * Keep-alive for the benchmarks' clients, letting a socket idle for 4 s go: the service closes idle sockets after
 * 5 s (Node's `keepAliveTimeout`), and a request sent on a socket it is closing at that moment fails with
 * ECONNRESET, which bench:rules counted as errors after the pause between its phases. A request waiting longer than
 * that for its answer is not cut: the agent only closes sockets it holds free.
 */
export const keepAliveAgent = (maxSockets: number) => new Agent({ keepAlive: true, maxSockets, timeout: 4_000 });
