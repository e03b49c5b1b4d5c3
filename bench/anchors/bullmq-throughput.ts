import net from 'node:net';
import { Queue, Worker } from 'bullmq';
import { DrainMeter } from '../harness/drain-meter.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type BullmqResult = ReturnType<DrainMeter['result']> | { skipped: string };

/**
 * The anchor for no-op throughput: BullMQ on Redis, one Worker with
 * `concurrency` (1 against the embedded broker, 50 against RabbitMQ, as the
 * issues set), draining the same number of no-op jobs added beforehand with
 * addBulk, on a queue of its own that is obliterated afterwards.
 */
export async function bullmqThroughput(total: number, warmup: number, concurrency = 1, redisUrl = REDIS_URL): Promise<BullmqResult> {
  const url = new URL(redisUrl);
  const problem = await pingRedis(url);
  if (problem) return { skipped: `Redis at ${url.host} unreachable (${problem}): BullMQ anchor skipped` };
  const connection = {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  };
  const name = `gaffer-bench-${process.pid}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  try {
    for (let i = 0; i < total; i += 1000) {
      const size = Math.min(1000, total - i);
      await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: {} })));
    }
    const meter = new DrainMeter(total, warmup);
    const worker = new Worker(name, async () => null, { connection, concurrency, autorun: false });
    try {
      const drained = new Promise<void>((resolve, reject) => {
        worker.on('completed', () => {
          if (meter.complete(performance.now())) resolve();
        });
        worker.on('failed', (job, error) => reject(new Error(`BullMQ job ${job?.id} failed: ${error.message}`)));
        worker.on('error', reject);
      });
      const start = performance.now();
      void worker.run();
      await drained;
      return meter.result(start);
    } finally {
      await worker.close();
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** A raw PING, so that an absent Redis is reported at once instead of retried forever by the client. */
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
