import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * How long an ack may wait for others. On a quorum queue every ack frame is a
 * Raft command for RabbitMQ, and the credit it frees brings the next delivery
 * by itself: one task acked at a time (tasks of tens of milliseconds) cost
 * RabbitMQ about twice the CPU that acks gathered over this window do. A
 * finished task is recorded before its ack is even scheduled, so an ack lost
 * in a crash only makes RabbitMQ redeliver a task the ledger knows is done.
 */
export const ACK_WINDOW_MS = 50;

/** Acks waiting at which the oldest run goes at the end of the turn: a busy pool does not hold its prefetch on finished tasks. */
export const ACK_BATCH = 64;

/**
 * The acks of one consumer channel, gathered over ACK_WINDOW_MS (or one turn
 * of the event loop once ACK_BATCH wait, see flushInOrder). amqplib writes
 * every frame to the socket by itself: so the run of the oldest unacked
 * deliveries that are all being acked goes as one frame (basic.ack with
 * `multiple`), and at the end of the window the others one by one. Every
 * delivery on the channel is registered here, so that a multiple ack never
 * covers a delivery that is still held.
 */
export class ChannelAcks {
  /** Unsettled deliveries, in delivery order (their tags increase). */
  private readonly unsettled: ConsumeMessage[] = [];
  private readonly acking = new Set<number>();
  private windowTimer: NodeJS.Timeout | undefined;
  private turnScheduled = false;

  constructor(
    private readonly channel: Channel,
    private readonly windowMs = ACK_WINDOW_MS,
  ) {}

  /** Acks decided but not sent yet: they still take the consumer's prefetch. */
  get pending(): number {
    return this.acking.size;
  }

  delivered(message: ConsumeMessage): void {
    this.unsettled.push(message);
  }

  /** Acks within the window; once a batch is waiting, the oldest run goes at the end of this turn. */
  ack(message: ConsumeMessage): void {
    this.acking.add(message.fields.deliveryTag);
    this.windowTimer ??= setTimeout(() => this.flush(), this.windowMs);
    if (this.acking.size >= ACK_BATCH && !this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => {
        this.turnScheduled = false;
        this.flushInOrder();
      });
    }
  }

  /** Returns the delivery to its queue, now. */
  requeue(message: ConsumeMessage): void {
    this.forget(message.fields.deliveryTag);
    this.channel.nack(message, false, true);
  }

  /** Sends the acks decided so far (also before the channel closes). */
  flush(): void {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    try {
      this.ackLeadingRun();
      for (const tag of this.acking) {
        const message = this.forget(tag);
        if (message) this.channel.ack(message);
      }
    } catch {
      // The channel closed meanwhile: RabbitMQ redelivers what it had not seen acked.
    }
    this.acking.clear();
  }

  /**
   * Sends the acks of the oldest deliveries, as one frame. The acks of later
   * ones wait: they join the run once the deliveries ahead of them are acked,
   * or go one by one when the window ends. Workers finish their read-ahead
   * side by side, so the acks decided at one moment are rarely one run: sent
   * at once, a pool of no-ops sent an ack frame for every four tasks.
   */
  flushInOrder(): void {
    try {
      this.ackLeadingRun();
    } catch {
      this.acking.clear();
    }
    if (this.acking.size === 0) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
    }
  }

  private ackLeadingRun(): void {
    let run = 0;
    while (run < this.unsettled.length && this.acking.has(this.unsettled[run]!.fields.deliveryTag)) run++;
    if (run === 0) return;
    const last = this.unsettled[run - 1]!;
    for (const message of this.unsettled.splice(0, run)) this.acking.delete(message.fields.deliveryTag);
    this.channel.ack(last, run > 1);
  }

  /** Takes a delivery out of the unsettled ones; their tags are sorted, so it is found by bisection. */
  private forget(tag: number): ConsumeMessage | undefined {
    let low = 0;
    let high = this.unsettled.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.unsettled[middle]!.fields.deliveryTag < tag) low = middle + 1;
      else high = middle;
    }
    return this.unsettled[low]?.fields.deliveryTag === tag ? this.unsettled.splice(low, 1)[0] : undefined;
  }
}
