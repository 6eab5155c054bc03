import { randomBytes } from 'node:crypto';

/**
 * The admin token a benchmark's services start with and its clients send.
 * Kept in the environment, so the services it configures from process.env and
 * the client processes it spawns all see the same one.
 */
process.env.QINGJIAN_TOKEN ??= `bench-${randomBytes(24).toString('base64url')}`;
process.env.QINGJIAN_BOOTSTRAP_TOKEN ??= process.env.QINGJIAN_TOKEN;
// One admin token sends the whole load: a benchmark measures throughput, not the per-token limit.
process.env.RATE_LIMIT_PER_MINUTE ??= '0';
process.env.RATE_LIMIT_FEED_CONNECTS_PER_MINUTE ??= '0';
export const benchAuth = { authorization: `Bearer ${process.env.QINGJIAN_TOKEN}` };
