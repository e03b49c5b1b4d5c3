import type { Channel, GetMessage } from 'amqplib';
import type { TaskEnvelope } from '../../core/envelope.js';
import type { DeadReason } from '../../core/task-record.js';
import type { DeadLetter, DeadLetterSelector } from '../../ports/broker.js';
import type { AmqpSession } from './amqp-session.js';
import { decodeMessage, HEADER, publishOptions } from './message-format.js';
import type { Publisher } from './publisher.js';
import { deadQueueName } from './topology.js';

/** How long a read of a dead-letter queue waits for the letters it put back to show in the queue's count. */
const PUT_BACK_WAIT_MS = 2000;

interface Letter {
  message: GetMessage;
  letter: DeadLetter;
}

/**
 * A queue's dead-letter queue is a RabbitMQ queue (`<queue>.dead`), so other
 * tools see it too. A RabbitMQ queue cannot be read by id: listing, showing,
 * retrying and purging read it whole on a channel of their own, act on the
 * letters they want, and close the channel, which puts the others back.
 */
export class DeadLetterQueue {
  constructor(
    private readonly session: AmqpSession,
    private readonly publisher: Publisher,
  ) {}

  async bury(envelope: TaskEnvelope, counters: { attempts: number; deaths: number }, reason: DeadReason, now: number): Promise<void> {
    await this.publisher.ensureQueue(envelope.queue);
    const options = publishOptions(envelope, { ...counters, dueAt: now }, { [HEADER.deadReason]: JSON.stringify(reason), [HEADER.deadAt]: now });
    await this.publisher.publish(deadQueueName(envelope.queue), Buffer.from(envelope.payload, 'utf8'), options);
  }

  async list(queues: readonly string[]): Promise<DeadLetter[]> {
    return this.visit(queues, () => 'keep');
  }

  /** Reads the letters of `queues`; the visitor acks (removes) a letter or keeps it. */
  async visit(queues: readonly string[], visitor: (letter: DeadLetter) => 'keep' | 'remove' | Promise<'keep' | 'remove'>): Promise<DeadLetter[]> {
    const seen: DeadLetter[] = [];
    for (const queue of queues) {
      const channel = await this.session.adminChannel();
      channel.on('error', () => {});
      let kept = 0;
      try {
        for (const { message, letter } of await this.readAll(channel, queue)) {
          seen.push(letter);
          if ((await visitor(letter)) === 'remove') channel.ack(message);
          else kept++;
        }
      } finally {
        await channel.close().catch(() => {});
      }
      if (kept > 0) await this.untilCounted(queue, kept);
    }
    return seen.sort((a, b) => b.deadAt - a.deadAt);
  }

  /**
   * RabbitMQ puts a closed channel's unacked messages back after the close
   * returns (a quorum queue through its log): until then they are in no
   * count, and the queue's stats would say they are gone. Waits, briefly,
   * until the queue counts at least the letters this read put back.
   */
  private async untilCounted(queue: string, kept: number): Promise<void> {
    const deadline = Date.now() + PUT_BACK_WAIT_MS;
    while (Date.now() < deadline) {
      const channel = await this.session.checkChannel();
      try {
        if ((await channel.checkQueue(deadQueueName(queue))).messageCount >= kept) return;
      } catch {
        this.session.forgetCheckChannel(channel);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  selects(selector: DeadLetterSelector, letter: DeadLetter): boolean {
    if ('ids' in selector) return selector.ids.includes(letter.envelope.id);
    if ('queue' in selector) return letter.envelope.queue === selector.queue;
    return true;
  }

  private async readAll(channel: Channel, queue: string): Promise<Letter[]> {
    const letters: Letter[] = [];
    try {
      await channel.checkQueue(deadQueueName(queue));
    } catch {
      return letters;
    }
    for (;;) {
      const message = await channel.get(deadQueueName(queue), { noAck: false });
      if (!message) return letters;
      const { envelope, counters } = decodeMessage(queue, message, () => `amqp-${queue}-dead-${message.fields.deliveryTag}`);
      const headers = message.properties.headers ?? {};
      letters.push({
        message,
        letter: {
          envelope,
          attempts: counters.attempts,
          deaths: counters.deaths,
          reason: parseReason(headers[HEADER.deadReason]),
          deadAt: Number(headers[HEADER.deadAt] ?? 0),
        },
      });
    }
  }
}

function parseReason(value: unknown): DeadReason {
  try {
    return JSON.parse(String(value)) as DeadReason;
  } catch {
    return { kind: 'failed', message: 'dead-lettered outside gaffer (no reason recorded)', attempts: 0 };
  }
}
