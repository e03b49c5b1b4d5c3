import type { Options } from 'amqplib';
import { StorageUnavailableError } from '../../core/errors.js';
import type { TaskEnvelope } from '../../core/envelope.js';
import type { AmqpSession } from './amqp-session.js';
import { publishOptions, type TaskCounters } from './message-format.js';
import { bucketFor, declareQueue, delayQueueName, type QueueType } from './topology.js';

/** Below this, a delay is not worth a trip through a holding queue. */
export const NEGLIGIBLE_DELAY_MS = 5;

/**
 * Publishes tasks with publisher confirms: each call resolves only when
 * RabbitMQ has the message (durably, for quorum queues). Declares each queue
 * (with its dead-letter and delay queues) the first time it is used.
 */
export class Publisher {
  private readonly declared = new Map<string, Promise<void>>();

  constructor(
    private readonly session: AmqpSession,
    private readonly queueType: QueueType,
  ) {
    session.on('up', () => this.declared.clear());
  }

  ensureQueue(queue: string): Promise<void> {
    let declaring = this.declared.get(queue);
    if (!declaring) {
      declaring = this.declare(queue);
      declaring.catch(() => this.declared.delete(queue));
      this.declared.set(queue, declaring);
    }
    return declaring;
  }

  /** Publishes a task to its queue, or to a delay queue if it is not due yet. */
  async publishTask(envelope: TaskEnvelope, counters: TaskCounters, now: number): Promise<void> {
    await this.ensureQueue(envelope.queue);
    const remaining = counters.dueAt - now;
    const target = remaining > NEGLIGIBLE_DELAY_MS ? delayQueueName(envelope.queue, bucketFor(remaining)) : envelope.queue;
    await this.publish(target, Buffer.from(envelope.payload, 'utf8'), publishOptions(envelope, counters));
  }

  async publish(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    const { publisher } = await this.session.ready();
    await new Promise<void>((resolve, reject) => {
      publisher.publish('', queue, content, options, (error: unknown) => {
        if (error) reject(new StorageUnavailableError(`RabbitMQ did not confirm a task for queue "${queue}"; it was not enqueued, try again`, { cause: error }));
        else resolve();
      });
    });
  }

  private async declare(queue: string): Promise<void> {
    const channel = await this.session.adminChannel();
    channel.on('error', () => {});
    try {
      await declareQueue(channel, queue, this.queueType);
    } catch (error) {
      throw new StorageUnavailableError(
        `RabbitMQ refused to declare queue "${queue}" as a ${this.queueType} queue (${(error as Error).message}); if it exists with other settings, delete it or pass the matching --queue-type`,
        { cause: error },
      );
    } finally {
      await channel.close().catch(() => {});
    }
  }
}
