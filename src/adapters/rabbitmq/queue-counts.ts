import type { QueueStats } from '../../ports/broker.js';
import type { AmqpSession } from './amqp-session.js';
import type { Ledger } from './ledger/ledger.js';
import { DELAY_BUCKETS_MS, deadQueueName, delayQueueName } from './topology.js';

/**
 * Queue counts from both sides: ready, delayed and dead messages from
 * RabbitMQ (passive declares), running tasks and arrivals from the ledger
 * (RabbitMQ only knows unacked messages per channel). Key waits are local to
 * each pool, so `blocked` is not counted here.
 */
export async function queueCounts(session: AmqpSession, ledger: Ledger, queues: readonly string[], now: number): Promise<QueueStats[]> {
  const counts = await ledger.counts(queues, now);
  const messages = async (queue: string): Promise<number> => {
    const channel = await session.checkChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch {
      // A missing queue closes the channel: count zero, and let the next check open another.
      session.forgetCheckChannel(channel);
      return 0;
    }
  };
  const stats: QueueStats[] = [];
  for (const [index, queue] of queues.entries()) {
    let delayed = 0;
    for (const bucket of DELAY_BUCKETS_MS) delayed += await messages(delayQueueName(queue, bucket));
    stats.push({
      queue,
      ready: Math.max(0, (await messages(queue)) - counts[index]!.cancelledQueued),
      blocked: 0,
      delayed,
      running: counts[index]!.running,
      dead: await messages(deadQueueName(queue)),
      enqueuedTotal: counts[index]!.arrivals,
    });
  }
  return stats;
}
