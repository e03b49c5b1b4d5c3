import type { ConsumeMessage } from 'amqplib';
import type { Delivery } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { AmqpSession } from './amqp-session.js';
import type { ClaimItem, ClaimVerdict, Ledger } from './ledger/ledger.js';
import { decodeMessage, type DecodedMessage } from './message-format.js';
import { ConsumerCredit } from './consumer-credit.js';
import { NEGLIGIBLE_DELAY_MS, type Publisher } from './publisher.js';

/** A message this pool holds unacked: arrived, handed out, or waiting for its key. */
export interface Held extends DecodedMessage {
  message: ConsumeMessage;
  /** The connection it came on: a message of an older connection cannot be acked any more. */
  generation: number;
}

export interface ConsumerDeps {
  session: AmqpSession;
  ledger: Ledger;
  publisher: Publisher;
  clock: Clock;
  owner: string;
  queue: string;
  onReady(): void;
}

/**
 * How soon tasks waiting for their key look again, besides the key channel's
 * news. The timer runs only while some wait: on an interval, it woke every
 * pool once a second, keys or not.
 */
const PARKED_RETRY_MS = 1000;

/**
 * One pool's consumer on one queue. RabbitMQ pushes; the pool pulls: this
 * keeps what arrived until claim() takes it, and keeps the consumer's
 * prefetch at what the pool can take (what it holds plus the workers it has
 * free), so no pool hoards tasks. A delivery goes through the ledger when it
 * is taken (Ledger.claim), which drops duplicates, stale copies and cancelled
 * tasks, keeps tasks of one key apart, and recognises a task this pool
 * already runs.
 */
export class QueueConsumer {
  /** Delivered by RabbitMQ, not yet taken by the pool. */
  private arrived: Held[] = [];
  /** Everything handed to the pool and not settled, by task id. */
  private readonly handedOut = new Map<string, Held>();
  private parked: Held[] = [];
  private readonly credit: ConsumerCredit;
  private parkedTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ConsumerDeps) {
    deps.session.on('down', () => this.onConnectionLost());
    this.credit = new ConsumerCredit(deps.session, deps.publisher, deps.queue, deps.clock, (message, generation) =>
      this.onMessage(message, generation),
    );
  }

  /**
   * Hands out up to `max` deliveries, and sizes the prefetch for what the pool
   * can take. Each goes through the ledger only now, when the pool takes it:
   * a task cancelled while it waited here is still 'queued' for the ledger,
   * so the cancel wins and the task is dropped instead of run.
   */
  async take(max: number, leaseMs: number, readAhead = 0): Promise<Delivery[]> {
    const out: Delivery[] = [];
    while (out.length < max && this.arrived.length > 0) {
      const batch = this.waitBehindOwnKeys(this.arrived.splice(0, max - out.length));
      if (batch.length === 0) continue;
      // Copies of tasks this pool runs (RabbitMQ gave them back after a lost channel), rarely any: see 'mine' below.
      let runningWhenAsked: Set<string> | undefined;
      for (const { envelope } of batch) if (this.handedOut.has(envelope.id)) (runningWhenAsked ??= new Set()).add(envelope.id);
      let verdicts: ClaimVerdict[];
      try {
        verdicts = await this.deps.ledger.claim(
          batch.map(attemptOf),
          this.deps.owner,
          leaseMs,
          this.deps.clock.now(),
        );
      } catch {
        // Redis is away: the messages go back to RabbitMQ, to be claimed once it is back.
        for (const held of batch) this.settleMessage(held, 'requeue');
        break;
      }
      batch.forEach((held, index) => {
        const verdict = verdicts[index];
        const { id } = held.envelope;
        if (verdict === 'mine' && this.handedOut.has(id)) this.rebind(held);
        // The run ended while the ledger answered (the pool asks for tasks as one ends): its outcome is in the ledger
        // now, so the copy goes back to RabbitMQ, and the ledger drops it when it comes again. Handed out, it would run twice.
        else if (verdict === 'mine' && runningWhenAsked?.has(id)) this.settleMessage(held, 'requeue');
        // 'mine' for a task the pool does not run: its claim reached the ledger, but the answer did not reach the pool.
        else if (verdict === 'run' || verdict === 'cancel_requested' || verdict === 'mine') {
          this.handedOut.set(id, held);
          out.push(this.toDelivery(held, verdict === 'cancel_requested'));
        } else if (verdict === 'key_busy') this.park(held);
        else this.settleMessage(held, 'ack');
      });
    }
    // Credit for what the pool holds, what it can still take and what it will ask for next: no more, so no pool hoards tasks.
    // What arrived and is not taken yet is that read-ahead, already delivered: counted again, it would add credit at every take.
    const acking = this.creditForAcks(out.length < max, readAhead);
    this.credit.want(this.handedOut.size + this.parked.length + acking + Math.max(0, max - out.length) + readAhead);
    return out;
  }

  /**
   * Parks the tasks whose key a task of this pool holds, before the ledger is
   * asked: the key's lease in Redis says the same, but a Redis that restarted
   * empty has forgotten it, and the next task of the key ran beside the one
   * still running. A copy of the holder itself (after a lost channel) goes on.
   */
  private waitBehindOwnKeys(taken: Held[]): Held[] {
    if (!taken.some(({ envelope }) => envelope.key !== undefined)) return taken;
    const holders = new Map<string, string>();
    for (const { envelope } of this.handedOut.values()) if (envelope.key !== undefined) holders.set(envelope.key, envelope.id);
    return taken.filter((held) => {
      const holder = held.envelope.key === undefined ? undefined : holders.get(held.envelope.key);
      if (holder === undefined || holder === held.envelope.id) return true;
      this.park(held);
      return false;
    });
  }

  /**
   * Finished tasks whose acks wait for their window still hold credit at
   * RabbitMQ. A pool that reads ahead (its tasks are short) gets credit for
   * up to its read-ahead of them: once the acks go, what that credit draws
   * waits no longer than its read-ahead does, and the credit is given back
   * within seconds once unused. When the pool comes up short with more acks
   * waiting than that, the oldest run of them goes at once, and the rest too
   * if still more than that wait. So a pool that does not read
   * ahead (its tasks are long) never gets credit for them, which could draw a
   * task it has no worker for while another pool has one.
   */
  private creditForAcks(short: boolean, readAhead: number): number {
    const acks = this.deps.session.current?.acks;
    if (!acks || acks.pending === 0) return 0;
    if (short && acks.pending > readAhead) {
      acks.flushInOrder();
      if (acks.pending > readAhead) acks.flush();
    }
    return Math.min(acks.pending, readAhead);
  }

  /** The message behind a delivery this pool was handed. */
  heldFor(id: string): Held | undefined {
    return this.handedOut.get(id);
  }

  /** Acks (or requeues) a handed-out task's message; false if its connection is gone (RabbitMQ redelivers it). */
  settle(id: string, how: 'ack' | 'requeue'): boolean {
    const held = this.handedOut.get(id);
    this.handedOut.delete(id);
    if (!held) return false;
    return this.settleMessage(held, how);
  }

  /** The attempts this pool holds, for the ledger's renewal. */
  running(): ClaimItem[] {
    return [...this.handedOut.values()].map(attemptOf);
  }

  /** A task waits for its key: until a key is freed, or PARKED_RETRY_MS at the latest. */
  private park(held: Held): void {
    this.parked.push(held);
    if (this.parkedTimer) return;
    this.parkedTimer = setTimeout(() => this.retryParked(), PARKED_RETRY_MS);
    this.parkedTimer.unref();
  }

  /** Tasks waiting for their key look again (a key was freed, or the retry timer), ahead of newer arrivals. */
  retryParked(): void {
    clearTimeout(this.parkedTimer);
    this.parkedTimer = undefined;
    if (this.parked.length === 0) return;
    this.arrived.unshift(...this.parked);
    this.parked = [];
    this.deps.onReady();
  }

  async close(): Promise<void> {
    clearTimeout(this.parkedTimer);
    await this.credit.close();
  }

  private toDelivery(held: Held, cancelRequested: boolean): Delivery {
    return {
      tag: `${this.deps.owner}|${held.envelope.id}`,
      envelope: held.envelope,
      attempts: held.counters.attempts,
      deaths: held.counters.deaths,
      cancelRequested,
    };
  }

  private onMessage(message: ConsumeMessage, generation: number): void {
    const decoded = decodeMessage(this.deps.queue, message, () => `amqp-${this.deps.queue}-${Date.now()}-${message.fields.deliveryTag}`);
    const held: Held = { ...decoded, message, generation };
    const now = this.deps.clock.now();
    if (held.counters.dueAt - now > NEGLIGIBLE_DELAY_MS) {
      void this.holdLonger(held, now);
      return;
    }
    this.arrived.push(held);
    this.deps.onReady();
  }

  /** Still early (it came back from a delay queue that was shorter than its delay): another round. */
  private async holdLonger(held: Held, now: number): Promise<void> {
    try {
      await this.deps.publisher.publishTask(held.envelope, held.counters, now);
      this.settleMessage(held, 'ack');
    } catch {
      this.settleMessage(held, 'requeue');
    }
  }

  /**
   * RabbitMQ redelivered a task this pool runs (its old connection died): the
   * run goes on, and its ack will use the new message.
   */
  private rebind(held: Held): void {
    const running = this.handedOut.get(held.envelope.id)!;
    if (running.generation === held.generation) {
      // Two copies on one connection (a duplicate publish): the extra one goes.
      this.settleMessage(held, 'ack');
      return;
    }
    this.handedOut.set(held.envelope.id, { ...running, message: held.message, generation: held.generation });
  }

  private settleMessage(held: Held, how: 'ack' | 'requeue'): boolean {
    const channels = this.deps.session.current;
    if (!channels || channels.generation !== held.generation) return false;
    try {
      if (how === 'ack') channels.acks.ack(held.message);
      else channels.acks.requeue(held.message);
      this.credit.settled(held.message);
      return true;
    } catch {
      return false;
    }
  }

  private onConnectionLost(): void {
    // What was not handed out yet is redelivered by RabbitMQ; what runs keeps running.
    this.arrived = [];
    this.parked = [];
    clearTimeout(this.parkedTimer);
    this.parkedTimer = undefined;
  }
}

/** Which attempt of its task a message is, as the ledger knows attempts (retries and deaths count alike). */
function attemptOf(held: Held): ClaimItem {
  return { envelope: held.envelope, generation: held.counters.attempts + held.counters.deaths };
}
