import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { redactUrl } from '../redact-url.js';

export const DEFAULT_REDIS_PREFIX = 'gaffer:';

/**
 * ioredis is loaded on the first connection, not with this module: the
 * embedded backend and most CLI commands never connect, and loading it costs
 * a process tens of MB and a tenth of a second here.
 */
const loadLazily = createRequire(import.meta.url);

/**
 * An ioredis client for gaffer: commands issued while Redis is away are
 * queued and sent once it is back (so an outcome recorded during an outage is
 * written, not dropped), and reconnection backs off up to 2 s.
 *
 * No auto-pipelining: a pool's hot path already gathers each turn's work into
 * one script call per step (TurnBatch), and ioredis' auto-pipelining put a
 * pipeline object and its bookkeeping around every one of those calls (measured
 * here: 5-15% of a pool manager's CPU at 100 tasks/s, nothing gained at 5,000).
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const ioredis = loadLazily('ioredis') as typeof import('ioredis');
  const client = new ioredis.Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    connectionName: 'gaffer',
    ...options,
  });
  // Errors while reconnecting are expected; the retry strategy handles them.
  client.on('error', () => {});
  return client;
}

export function describeRedis(url: string): string {
  return `redis ${redactUrl(url)}`;
}
