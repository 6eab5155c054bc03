import { Redis } from 'ioredis';

/**
 * Two kinds of connection, because BullMQ needs opposite behaviour from each:
 * workers block and must wait out a Redis restart (retry forever), while
 * producers answer an HTTP request and must fail fast (no offline queue) so
 * ingest can say 503 instead of hanging.
 */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

export function producerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
}
