import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { outageReporter, type ConnectionChange } from '../outage-reporter.js';
import { serverUnavailable } from '../server-unavailable.js';

export const DEFAULT_REDIS_PREFIX = 'gaffer:';

/**
 * ioredis is loaded on the first connection, not with this module: the
 * embedded backend and most CLI commands never connect, and loading it costs
 * a process tens of MB and a tenth of a second here.
 */
const loadLazily = createRequire(import.meta.url);

/** Each client's last connection error: what to tell a user who waits for Redis. */
const lastErrors = new WeakMap<Redis, Error>();

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
  // Errors while reconnecting are expected; the retry strategy handles them. The last one says why Redis is unreachable.
  client.on('error', (error: Error) => lastErrors.set(client, error));
  client.on('ready', () => lastErrors.delete(client));
  return client;
}

/**
 * Resolves once the client is connected, at once if it is; fails after
 * `timeoutMs` with what stops it, or at once if the client was closed. Commands
 * would wait for Redis without end (see connectRedis), so a process that must
 * not wait for ever asks this first.
 */
export function waitUntilReady(client: Redis, url: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  const unreachable = () => serverUnavailable('Redis', url, lastErrors.get(client)?.message);
  if (client.status === 'end') return Promise.reject(unreachable());
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => settle();
    const onEnd = () => settle(unreachable());
    const timer = setTimeout(onEnd, timeoutMs);
    client.on('ready', onReady);
    client.on('end', onEnd);
  });
}

/**
 * Calls back when the client loses its connection after being connected,
 * and when it is connected again (see outageReporter). Returns the
 * unsubscribe: call it before closing the client, since a close is not an outage.
 */
export function watchConnection(client: Redis, listener: (change: ConnectionChange) => void): () => void {
  const outages = outageReporter(listener, client.status === 'ready');
  const onClose = () => outages.disconnected(lastErrors.get(client)?.message);
  const onReady = () => outages.connected();
  client.on('close', onClose);
  client.on('ready', onReady);
  return () => {
    client.off('close', onClose);
    client.off('ready', onReady);
  };
}
