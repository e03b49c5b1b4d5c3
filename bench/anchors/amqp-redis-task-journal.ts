import { once } from 'node:events';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import type { JournalTask, TaskJournal } from './task-journal.js';

/** How long a done task's record is kept: the run is long over by then. */
const RECORD_TTL_MS = 10 * 60_000;

/**
 * The durable fork-pool anchor's journal on RabbitMQ and Redis, as gaffer
 * uses them: tasks are persistent messages, published with confirms to a
 * durable quorum queue; the consumer's prefetch is what the children hold,
 * so the next delivery comes once a task is acked. A task is marked running
 * in Redis (one HSET) before its child gets it, and done (HSET and PEXPIRE,
 * pipelined) before its message is acked.
 */
export class AmqpRedisTaskJournal implements TaskJournal {
  readonly name = 'RabbitMQ and Redis, two round trips and an ack per task';
  private readonly delivered: ConsumeMessage[] = [];
  private readonly waiting: Array<{ resolve(message: ConsumeMessage): void; reject(error: Error): void }> = [];
  /** Why deliveries stopped (the channel closed or RabbitMQ cancelled the consumer): a run waiting for one fails with it. */
  private stopped: Error | undefined;
  private readonly held = new Map<string, ConsumeMessage>();
  private batch = 0;

  private constructor(
    private readonly publisher: ConfirmChannel,
    private readonly consumer: Channel,
    private readonly redis: Redis,
    private readonly queue: string,
    private readonly prefix: string,
  ) {}

  /** Declares `queue` and consumes it with a prefetch of `inFlight` (what the children hold at most). */
  static async open(model: ChannelModel, redis: Redis, queue: string, prefix: string, inFlight: number): Promise<AmqpRedisTaskJournal> {
    const publisher = await model.createConfirmChannel();
    await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const consumer = await model.createChannel();
    await consumer.prefetch(inFlight, false);
    const journal = new AmqpRedisTaskJournal(publisher, consumer, redis, queue, prefix);
    consumer.on('error', () => {});
    consumer.on('close', () => journal.stop(new Error(`the durable fork pool's channel on ${queue} closed`)));
    await consumer.consume(queue, (message) => (message ? journal.onDelivery(message) : journal.stop(new Error(`RabbitMQ cancelled the consumer of ${queue}`))), {
      noAck: false,
    });
    return journal;
  }

  async enqueue(count: number, iterations: number): Promise<void> {
    const batch = ++this.batch;
    for (let i = 0; i < count; i++) {
      const body = Buffer.from(JSON.stringify({ id: `${batch}-${i}`, iterations }));
      if (!this.publisher.sendToQueue(this.queue, body, { persistent: true, contentType: 'application/json' })) await once(this.publisher, 'drain');
    }
    await this.publisher.waitForConfirms();
  }

  async advance(doneId: string | undefined, claimNext: boolean): Promise<JournalTask | undefined> {
    if (doneId !== undefined) {
      const key = this.prefix + doneId;
      await this.redis.pipeline().hset(key, 's', 'done', 'f', Date.now()).pexpire(key, RECORD_TTL_MS).exec();
      this.consumer.ack(this.held.get(doneId)!);
      this.held.delete(doneId);
    }
    if (!claimNext) return undefined;
    const message = this.delivered.shift() ?? (await this.nextDelivery());
    const task = JSON.parse(message.content.toString()) as JournalTask;
    await this.redis.hset(this.prefix + task.id, 's', 'running');
    this.held.set(task.id, message);
    return task;
  }

  async close(): Promise<void> {
    await this.consumer.close().catch(() => {});
    await this.publisher.close().catch(() => {});
  }

  private nextDelivery(): Promise<ConsumeMessage> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private onDelivery(message: ConsumeMessage): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(message);
    else this.delivered.push(message);
  }

  private stop(error: Error): void {
    this.stopped ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.stopped);
  }
}
