import type { ConsumeMessage } from 'amqplib';
import type { Clock } from '../../ports/clock.js';
import type { AmqpSession } from './amqp-session.js';
import type { Publisher } from './publisher.js';

/** How long a pool must want less credit before a consumer is cancelled. */
const SHRINK_AFTER_MS = 2000;

interface Consumer {
  tag: string | undefined;
  credit: number;
  /** Its deliveries the pool has not settled yet. */
  holding: number;
}

/**
 * A pool's prefetch on one queue, held as consumers. RabbitMQ fixes a
 * consumer's prefetch when it starts, and a new consumer's credit ignores the
 * unacked messages of the old ones, so re-creating a consumer to resize it
 * would hand the pool more than it asked for. Instead each consumer is a unit
 * of credit: more credit is another consumer for the difference; less is
 * cancelling some. Their unacked messages stay with the pool until settled,
 * and count as credit until then: the pool counts them in what it wants, and
 * no live consumer's credit covers them. Shrinking waits a little, so a need
 * that flickers does not churn consumers.
 */
export class ConsumerCredit {
  private consumers: Consumer[] = [];
  private target = 0;
  /** Deliveries of cancelled consumers that the pool has not settled yet. */
  private orphaned = 0;
  private smallerSince: number | undefined;
  /** Looks again once the shrink is due: a pool whose workers are all busy may not ask for credit for a long while. */
  private shrinkTimer: NodeJS.Timeout | undefined;
  private lastWanted = 0;
  private adjusting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly session: AmqpSession,
    private readonly publisher: Publisher,
    private readonly queue: string,
    private readonly clock: Clock,
    private readonly onMessage: (message: ConsumeMessage, generation: number) => void,
  ) {
    session.on('down', () => {
      this.consumers = [];
      this.orphaned = 0;
    });
    session.on('up', () => void this.adjust());
  }

  /** Asks for `wanted` messages of credit in all (at least 1, so new tasks are seen). */
  want(wanted: number): void {
    this.lastWanted = wanted;
    const size = Math.max(1, wanted);
    const total = this.total();
    if (size >= total) {
      this.smallerSince = undefined;
      clearTimeout(this.shrinkTimer);
      this.shrinkTimer = undefined;
      this.target = size;
    } else {
      const now = this.clock.now();
      this.smallerSince ??= now;
      const waited = now - this.smallerSince;
      this.target = waited >= SHRINK_AFTER_MS ? size : total;
      if (waited < SHRINK_AFTER_MS && !this.shrinkTimer && !this.closed) {
        this.shrinkTimer = setTimeout(() => {
          this.shrinkTimer = undefined;
          this.want(this.lastWanted);
        }, SHRINK_AFTER_MS - waited);
        this.shrinkTimer.unref();
      }
    }
    if (this.target !== total || this.consumers.length === 0) void this.adjust();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.shrinkTimer);
    const channels = this.session.current;
    for (const consumer of this.consumers.splice(0)) {
      if (channels && consumer.tag) await channels.consumer.cancel(consumer.tag).catch(() => {});
    }
  }

  /** The pool settled (acked or requeued) a delivery of this connection. */
  settled(message: ConsumeMessage): void {
    const tag = message.fields.consumerTag;
    for (const consumer of this.consumers) {
      if (consumer.tag === tag) {
        consumer.holding--;
        return;
      }
    }
    if (this.orphaned > 0) this.orphaned--;
  }

  private total(): number {
    return this.consumers.reduce((sum, consumer) => sum + consumer.credit, this.orphaned);
  }

  private adjust(): Promise<void> {
    this.adjusting ??= this.adjustLoop().finally(() => (this.adjusting = undefined));
    return this.adjusting;
  }

  private async adjustLoop(): Promise<void> {
    try {
      while (!this.closed && this.total() !== Math.max(1, this.target)) {
        const channels = await this.session.ready();
        await this.publisher.ensureQueue(this.queue);
        const target = Math.max(1, this.target);
        const total = this.total();
        if (target > total) {
          const consumer: Consumer = { tag: undefined, credit: target - total, holding: 0 };
          this.consumers.push(consumer);
          await channels.consumer.prefetch(consumer.credit, false);
          const generation = channels.generation;
          const { consumerTag } = await channels.consumer.consume(
            this.queue,
            (message) => {
              if (message) {
                consumer.holding++;
                channels.acks.delivered(message);
                this.onMessage(message, generation);
              }
              // RabbitMQ cancelled this consumer (its queue was deleted): its credit is gone; declare and consume again.
              else this.drop(consumer);
            },
            { noAck: false },
          );
          consumer.tag = consumerTag;
        } else {
          // The smallest consumer goes; if that overshoots, the next turn adds the difference back.
          const smallest = [...this.consumers].sort((a, b) => a.credit - b.credit)[0]!;
          this.drop(smallest);
          if (smallest.tag) await channels.consumer.cancel(smallest.tag);
        }
      }
    } catch {
      // The connection went away mid-way: 'up' starts over with the credit still wanted.
    }
  }

  private drop(consumer: Consumer): void {
    this.consumers = this.consumers.filter((other) => other !== consumer);
    this.orphaned += consumer.holding;
    if (!this.closed) void this.adjust();
  }
}
