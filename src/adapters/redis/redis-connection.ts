import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../redact-url.js';

export const DEFAULT_REDIS_PREFIX = 'gaffer:';

/**
 * An ioredis client for gaffer: commands issued while Redis is away are
 * queued and sent once it is back (so an outcome recorded during an outage is
 * written, not dropped), reconnection backs off up to 2 s, and the commands
 * of one turn of the event loop share one write.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    connectionName: 'gaffer',
    // Commands of one turn of the event loop go out in one write: a busy pool
    // issues several per task, and each write is a system call.
    enableAutoPipelining: true,
    ...options,
  });
  // Errors while reconnecting are expected; the retry strategy handles them.
  client.on('error', () => {});
  return client;
}

export function describeRedis(url: string): string {
  return `redis ${redactUrl(url)}`;
}
