import type { QueueStats } from '../../ports/broker.js';
import type { AmqpSession } from './amqp-session.js';
import type { Ledger } from './ledger/ledger.js';
import { DELAY_BUCKETS_MS, deadQueueName, delayQueueName } from './topology.js';

/** How long counts of delay and dead-letter queues are reused: they change slowly, and take seven round trips a queue. */
const SLOW_COUNTS_MS = 1000;

/**
 * Queue counts from both sides: ready, delayed and dead messages from
 * RabbitMQ (passive declares), running tasks and arrivals from the ledger
 * (RabbitMQ only knows unacked messages per channel). Key waits are local to
 * each pool, so `blocked` is not counted here. A pool reads the counts of its
 * queue every tick: the ready count is read each time, the delayed and dead
 * counts at most once a second.
 */
export class QueueCounts {
  private readonly slow = new Map<string, { at: number; delayed: number; dead: number }>();

  constructor(
    private readonly session: AmqpSession,
    private readonly ledger: Ledger,
  ) {}

  async read(queues: readonly string[], now: number): Promise<QueueStats[]> {
    const counts = await this.ledger.counts(queues, now);
    const stats: QueueStats[] = [];
    for (const [index, queue] of queues.entries()) {
      const { delayed, dead } = await this.slowCounts(queue, now);
      stats.push({
        queue,
        ready: Math.max(0, (await this.messages(queue)) - counts[index]!.cancelledQueued),
        blocked: 0,
        delayed,
        running: counts[index]!.running,
        dead,
        enqueuedTotal: counts[index]!.arrivals,
      });
    }
    return stats;
  }

  /** This process just changed what waits in the queue's delay or dead-letter queues: the next read counts them again. */
  forget(queue: string): void {
    this.slow.delete(queue);
  }

  private async slowCounts(queue: string, now: number): Promise<{ delayed: number; dead: number }> {
    const known = this.slow.get(queue);
    if (known && now - known.at < SLOW_COUNTS_MS) return known;
    let delayed = 0;
    for (const bucket of DELAY_BUCKETS_MS) delayed += await this.messages(delayQueueName(queue, bucket));
    const fresh = { at: now, delayed, dead: await this.messages(deadQueueName(queue)) };
    this.slow.set(queue, fresh);
    return fresh;
  }

  private async messages(queue: string): Promise<number> {
    const channel = await this.session.checkChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch {
      // A missing queue closes the channel: count zero, and let the next check open another.
      this.session.forgetCheckChannel(channel);
      return 0;
    }
  }
}
