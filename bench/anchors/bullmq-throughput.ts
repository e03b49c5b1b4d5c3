import { Queue, Worker } from 'bullmq';
import { DrainMeter } from '../harness/drain-meter.js';
import { bullmqConnection, bullmqQueueName, REDIS_URL } from './bullmq-redis.js';

export type BullmqResult = ReturnType<DrainMeter['result']> | { skipped: string };

/**
 * The anchor for no-op throughput: BullMQ on Redis, one Worker with
 * `concurrency` (1 against the embedded broker, 50 against RabbitMQ, as the
 * issues set), draining the same number of no-op jobs added beforehand with
 * addBulk, on a queue of its own that is obliterated afterwards.
 */
export async function bullmqThroughput(total: number, warmup: number, concurrency = 1, redisUrl = REDIS_URL): Promise<BullmqResult> {
  const redis = await bullmqConnection(redisUrl);
  if ('skipped' in redis) return { skipped: `${redis.skipped}: BullMQ anchor skipped` };
  const { connection } = redis;
  const name = bullmqQueueName('noop');
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
