import type { MiddlewareHandler } from 'hono';

/**
 * An answer given without reading the request body (415 for a wrong content type, 404, 401, 413 …)
 * leaves the body's bytes on a keep-alive connection, and the Node adapter drops that connection half
 * a second later although the answer said keep-alive: the client's next request on it fails with
 * "other side closed". So a body the route did not read is read and discarded before answering when
 * its declared length is within the body limit; any other unread body closes the connection
 * (`Connection: close`, which clients honour) instead of leaving a trap.
 */
export function drainUnreadBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const declared = c.req.header('content-length');
    if ((declared === undefined || declared === '0') && c.req.header('transfer-encoding') === undefined) return;
    const raw = c.req.raw;
    if (raw.bodyUsed) return;
    const length = Number(declared);
    if (raw.method !== 'GET' && raw.method !== 'HEAD' && Number.isSafeInteger(length) && length <= maxBytes) {
      // A client gone mid-body leaves nothing to drain; the answer reaches nobody.
      await raw.arrayBuffer().catch(() => undefined);
      return;
    }
    c.res.headers.set('Connection', 'close');
  };
}
