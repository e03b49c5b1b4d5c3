import net from 'node:net';
import type { ConnectionOptions } from 'bullmq';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The connection options of the BullMQ anchors for a redis:// URL, or why
 * there is none: an absent Redis is reported at once (a raw PING) instead of
 * retried forever by the client, and the anchor is skipped with that reason.
 */
export async function bullmqConnection(redisUrl: string): Promise<{ connection: ConnectionOptions } | { skipped: string }> {
  const url = new URL(redisUrl);
  const problem = await pingRedis(url);
  if (problem) return { skipped: `Redis at ${url.host} unreachable (${problem})` };
  return {
    connection: {
      host: url.hostname,
      port: Number(url.port || 6379),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    },
  };
}

/** A queue name of the run's own, obliterated afterwards. */
export function bullmqQueueName(what: string): string {
  return `gaffer-bench-${what}-${process.pid}-${Date.now()}`;
}

function pingRedis(url: URL): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    const finish = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(1000, () => finish('no answer within 1 s'));
    socket.once('error', (error) => finish(error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG') ? undefined : data.toString().trim()));
  });
}
