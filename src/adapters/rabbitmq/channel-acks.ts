import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * The acks of one consumer channel, gathered per turn of the event loop.
 * Short tasks are settled many at a time, and amqplib writes every frame to
 * the socket by itself: so the run of the oldest unacked deliveries that are
 * all being acked goes as one frame (basic.ack with `multiple`), the others
 * one by one. Every delivery on the channel is registered here, so that a
 * multiple ack never covers a delivery that is still held.
 */
export class ChannelAcks {
  /** Unsettled deliveries, in delivery order (their tags increase). */
  private readonly unsettled: ConsumeMessage[] = [];
  private readonly acking = new Set<number>();
  private scheduled = false;

  constructor(private readonly channel: Channel) {}

  delivered(message: ConsumeMessage): void {
    this.unsettled.push(message);
  }

  /** Acks at the end of this turn. */
  ack(message: ConsumeMessage): void {
    this.acking.add(message.fields.deliveryTag);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Returns the delivery to its queue, now. */
  requeue(message: ConsumeMessage): void {
    this.forget(message.fields.deliveryTag);
    this.channel.nack(message, false, true);
  }

  private flush(): void {
    this.scheduled = false;
    let run = 0;
    while (run < this.unsettled.length && this.acking.has(this.unsettled[run]!.fields.deliveryTag)) run++;
    try {
      if (run > 0) {
        this.channel.ack(this.unsettled[run - 1]!, run > 1);
        for (const message of this.unsettled.splice(0, run)) this.acking.delete(message.fields.deliveryTag);
      }
      for (const tag of this.acking) {
        const message = this.forget(tag);
        if (message) this.channel.ack(message);
      }
    } catch {
      // The channel closed meanwhile: RabbitMQ redelivers what it had not seen acked.
    }
    this.acking.clear();
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
