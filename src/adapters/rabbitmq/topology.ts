import type { Channel, Options } from 'amqplib';

export type QueueType = 'quorum' | 'classic';

/**
 * Holding queues for delays, without a plugin: a message waits in the largest
 * bucket that does not overshoot its due time, expires, and is dead-lettered
 * back to its queue; if it is still early there, it takes the next bucket.
 */
export const DELAY_BUCKETS_MS = [100, 1000, 10_000, 60_000, 600_000, 3_600_000] as const;

export function deadQueueName(queue: string): string {
  return `${queue}.dead`;
}

export function delayQueueName(queue: string, bucketMs: number): string {
  return `${queue}.delay.${bucketMs}`;
}

/** The bucket for a remaining delay: the largest not above it (the smallest if below all). */
export function bucketFor(remainingMs: number): number {
  let chosen: number = DELAY_BUCKETS_MS[0];
  for (const bucket of DELAY_BUCKETS_MS) if (bucket <= remainingMs) chosen = bucket;
  return chosen;
}

function queueArguments(type: QueueType, extra: Record<string, unknown> = {}): Options.AssertQueue {
  return { durable: true, arguments: { 'x-queue-type': type, ...extra } };
}

/**
 * Declares a queue with its dead-letter queue and delay buckets; idempotent.
 * Delay buckets are quorum queues with at-least-once dead-lettering when the
 * queue type is quorum, so a message is never lost on its way back.
 */
export async function declareQueue(channel: Channel, queue: string, type: QueueType): Promise<void> {
  await channel.assertQueue(queue, queueArguments(type));
  await channel.assertQueue(deadQueueName(queue), queueArguments(type));
  for (const bucket of DELAY_BUCKETS_MS) {
    const atLeastOnce = type === 'quorum' ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
    await channel.assertQueue(
      delayQueueName(queue, bucket),
      queueArguments(type, {
        'x-message-ttl': bucket,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
        ...atLeastOnce,
      }),
    );
  }
}
