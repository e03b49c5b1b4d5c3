import { once } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import { DrainMeter } from '../harness/drain-meter.js';
import type { ProductionStack } from '../harness/stack.js';

/** The ceiling's consumer prefetch, as issue 3 sets it. */
export const CEILING_PREFETCH = 100;

export type CeilingResult = ReturnType<DrainMeter['result']> & { publishMs: number };

/**
 * The ceiling for no-op throughput on RabbitMQ: what amqplib alone does on
 * this machine, with nothing of a task queue around it. `total` persistent
 * messages are published with confirms to a durable quorum queue of its own
 * (as gaffer's are), then one consumer with prefetch 100 acks them one by
 * one, timed with the same meter as gaffer (the first quarter is warm-up).
 * The queue is deleted afterwards.
 */
export async function amqplibCeiling(stack: ProductionStack, total: number, warmup: number): Promise<CeilingResult> {
  const queue = stack.anchorQueue('amqplib');
  try {
    return await stack.withChannel(async (model) => {
      const publisher = await model.createConfirmChannel();
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const publishStart = performance.now();
      await publishConfirmed(publisher, queue, total);
      const publishMs = performance.now() - publishStart;
      await publisher.close();

      const consumer = await model.createChannel();
      await consumer.prefetch(CEILING_PREFETCH, false);
      const meter = new DrainMeter(total, warmup);
      let start = 0;
      const drained = new Promise<void>((resolve, reject) => {
        consumer.on('error', reject);
        start = performance.now();
        void consumer
          .consume(
            queue,
            (message) => {
              if (!message) return reject(new Error(`RabbitMQ cancelled the consumer of ${queue}`));
              consumer.ack(message);
              if (meter.complete(performance.now())) resolve();
            },
            { noAck: false },
          )
          .catch(reject);
      });
      await drained;
      const result = meter.result(start);
      await consumer.close();
      return { ...result, publishMs };
    });
  } finally {
    await stack.deleteQueues([queue]);
  }
}

/** Publishes `count` small persistent messages and resolves once RabbitMQ confirmed them all, minding the channel's back-pressure. */
async function publishConfirmed(channel: ConfirmChannel, queue: string, count: number): Promise<void> {
  const body = Buffer.from('null');
  for (let i = 0; i < count; i++) {
    if (!channel.publish('', queue, body, { persistent: true, contentType: 'application/json' })) await once(channel, 'drain');
  }
  // Rejects if any message was nacked.
  await channel.waitForConfirms();
}
