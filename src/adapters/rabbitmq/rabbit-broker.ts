import { EventEmitter } from 'node:events';
import type { TaskEnvelope } from '../../core/envelope.js';
import type { DeadReason } from '../../core/task-record.js';
import type {
  Broker,
  BrokerChange,
  CancelResult,
  CancelSelector,
  ClaimRequest,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterSelector,
  Delivery,
  EnqueueResult,
  QueueStats,
  RetryOptions,
} from '../../ports/broker.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { Retention } from '../../ports/store.js';
import { DEFAULT_REDIS_PREFIX } from '../redis/redis-connection.js';
import type { RecordWrite } from '../redis/store/scripts/upsert-tasks.js';
import { AmqpSession } from './amqp-session.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { Ledger } from './ledger/ledger.js';
import { Publisher } from './publisher.js';
import { QueueConsumer } from './queue-consumer.js';
import { QueueCounts } from './queue-counts.js';
import type { QueueType } from './topology.js';
import { allReady } from '../all-ready.js';
import { outageReporter, type ConnectionChange } from '../outage-reporter.js';

export interface RabbitBrokerOptions {
  /** amqp:// or amqps:// URL. */
  url: string;
  /** Redis for the ledger (see Ledger): RabbitMQ alone cannot say which task ids exist or who runs what. */
  redisUrl: string;
  redisPrefix?: string;
  queueType?: QueueType;
  clock?: Clock;
}

/**
 * The production broker: tasks are persistent messages in durable quorum
 * queues, published with confirms; delays go through holding queues; a
 * queue's dead letters through `<queue>.dead`. Unacked messages return to
 * their queue when a pool's connection dies, and the ledger in Redis makes
 * sure a redelivered task is neither lost nor run twice by the same pool.
 */
export class RabbitBroker implements Broker {
  private readonly session: AmqpSession;
  private readonly ledger: Ledger;
  private readonly publisher: Publisher;
  private readonly deadLetters: DeadLetterQueue;
  private readonly counts: QueueCounts;
  private readonly consumers = new Map<string, QueueConsumer>();
  private readonly changes = new EventEmitter<{ change: [BrokerChange] }>();
  private readonly clock: Clock;
  private subscribed: Promise<void> | undefined;
  /** The lease length of each owner that renewed here: its leases are renewed again as soon as Redis is back. */
  private readonly leaseMsByOwner = new Map<string, number>();

  constructor(options: RabbitBrokerOptions) {
    this.clock = options.clock ?? systemClock;
    this.session = new AmqpSession(options.url);
    this.ledger = new Ledger(options.redisUrl, options.redisPrefix ?? DEFAULT_REDIS_PREFIX);
    this.publisher = new Publisher(this.session, options.queueType ?? 'quorum');
    this.deadLetters = new DeadLetterQueue(this.session, this.publisher);
    this.counts = new QueueCounts(this.session, this.ledger);
    // A Redis that restarted empty forgot the tasks the pools run and their keys' leases: write them back at once.
    this.ledger.onReconnect(() => {
      for (const [owner, leaseMs] of this.leaseMsByOwner) void this.renewLeases(owner, leaseMs).catch(() => {});
    });
    this.session.start();
  }

  get description(): string {
    return this.session.description;
  }

  async enqueue(tasks: readonly TaskEnvelope[]): Promise<EnqueueResult[]> {
    const first = new Map<string, TaskEnvelope>();
    for (const task of tasks) if (!first.has(task.id)) first.set(task.id, task);
    const unique = [...first.values()];
    const states = await this.ledger.register(unique);
    const stateOf = new Map(unique.map((task, index) => [task.id, states[index]!]));
    // 'pending': a publish that was never confirmed (its producer died or gave up, or is enqueueing it now); publishing
    // again is safe (claims drop the duplicate), but the id was taken first by that producer: not created here.
    const toPublish = unique.filter((task) => stateOf.get(task.id) === 'new' || stateOf.get(task.id) === 'pending');
    const now = this.clock.now();
    // A producer is told when RabbitMQ blocks it (an alarm), instead of waiting for as long as the alarm lasts.
    const blocked = this.session.blockedLimit(ENQUEUE_BLOCKED_LIMIT_MS);
    try {
      await Promise.race([
        Promise.all(toPublish.map((task) => this.publisher.publishTask(task, { attempts: 0, deaths: 0, dueAt: task.runAt ?? now }, now))),
        blocked.exceeded,
      ]);
    } finally {
      blocked.stop();
    }
    await this.ledger.markQueued(toPublish);
    const answered = new Set<string>();
    return tasks.map((task) => {
      const first = !answered.has(task.id);
      answered.add(task.id);
      if (first && stateOf.get(task.id) === 'pending') return { id: task.id, created: false, resent: true };
      return { id: task.id, created: first && stateOf.get(task.id) === 'new' };
    });
  }

  async claim(request: ClaimRequest): Promise<Delivery[]> {
    void this.listenToLedger();
    return this.consumer(request.owner, request.queue).take(request.max, request.leaseMs, request.readAhead);
  }

  // Every settling call checks in the ledger that its owner still holds the task: an owner that lost it
  // (another pool took it) changes nothing, as a late ack on the embedded broker. Its own copy of the
  // message is acked all the same: it is a duplicate, or it died with its connection.

  complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled'): Promise<void> {
    return this.completeRecorded(delivery, outcome);
  }

  /** complete(), and with `record`, the task's store record written in the ledger's finish: one Redis step (see RedisSettlement). */
  async completeRecorded(delivery: Delivery, outcome: 'succeeded' | 'cancelled', record?: RecordWrite): Promise<void> {
    const { owner, consumer } = this.route(delivery);
    await this.ledger.finish(delivery.envelope, outcome === 'succeeded' ? 'done' : 'cancelled', owner, generationOf(delivery), record);
    consumer?.settle(delivery.envelope.id, 'ack');
  }

  async retry(delivery: Delivery, options: RetryOptions): Promise<void> {
    const held = await this.stillHeld(delivery);
    if (!held) return;
    const { owner, consumer } = held;
    const attempts = delivery.attempts + (options.counts === 'attempt' ? 1 : 0);
    const deaths = delivery.deaths + (options.counts === 'death' ? 1 : 0);
    const now = this.clock.now();
    // Publish first: if this pool dies before the ack, the old copy comes back and the ledger drops it as stale.
    await this.publisher.publishTask(delivery.envelope, { attempts, deaths, dueAt: now + options.delayMs }, now);
    this.counts.forget(delivery.envelope.queue);
    await this.ledger.requeue(delivery.envelope, owner, generationOf(delivery), attempts + deaths, options.delayMs + LEASE_AFTER_REQUEUE_MS);
    consumer?.settle(delivery.envelope.id, 'ack');
  }

  deadLetter(delivery: Delivery, reason: DeadReason): Promise<void> {
    return this.deadLetterRecorded(delivery, reason);
  }

  /**
   * deadLetter(), and with `record`, the task's store record written in the
   * ledger's finish (see RedisSettlement), after the dead letter is published:
   * whoever sees the record dead finds the letter. A pool that no longer holds
   * the task still writes the record, as the store's own update would.
   */
  async deadLetterRecorded(delivery: Delivery, reason: DeadReason, record?: RecordWrite): Promise<void> {
    const held = await this.stillHeld(delivery);
    if (!held) {
      if (record) await this.ledger.finish(delivery.envelope, 'dead', this.route(delivery).owner, generationOf(delivery), record);
      return;
    }
    const { owner, consumer } = held;
    const attempts = Math.max(delivery.attempts, 'attempts' in reason && typeof reason.attempts === 'number' ? reason.attempts : 0);
    const deaths = Math.max(delivery.deaths, reason.kind === 'crashed' ? reason.deaths : 0);
    await this.deadLetters.bury(delivery.envelope, { attempts, deaths }, reason, this.clock.now());
    this.counts.forget(delivery.envelope.queue);
    await this.ledger.finish(delivery.envelope, 'dead', owner, generationOf(delivery), record);
    consumer?.settle(delivery.envelope.id, 'ack');
  }

  async release(deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const { owner, consumer } = this.route(delivery);
      const generation = generationOf(delivery);
      const held = await this.ledger.requeue(delivery.envelope, owner, generation, generation, LEASE_AFTER_REQUEUE_MS);
      consumer?.settle(delivery.envelope.id, held ? 'requeue' : 'ack');
    }
  }

  async renewLeases(owner: string, leaseMs: number): Promise<void> {
    this.leaseMsByOwner.set(owner, leaseMs);
    const running = [...this.consumers.entries()]
      .filter(([key]) => key.startsWith(`${owner}\n`))
      .flatMap(([, consumer]) => consumer.running());
    await this.ledger.renew(running, owner, leaseMs, this.clock.now());
  }

  /** RabbitMQ returns a dead connection's unacked messages by itself: there is nothing to take back. */
  async reclaim(): Promise<number> {
    return 0;
  }

  async cancel(selector: CancelSelector): Promise<CancelResult[]> {
    const ids =
      'group' in selector ? (await this.ledger.groupMembers(selector.group)).filter((id) => id !== selector.except) : [...selector.ids];
    const results = await this.ledger.cancel(ids);
    return 'group' in selector ? results.filter((result) => result.outcome === 'cancelled' || result.outcome === 'stopping') : results;
  }

  async pendingCancellations(owner: string): Promise<string[]> {
    return this.ledger.pendingCancellations(owner);
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    const names = [...(queues ?? (await this.ledger.knownQueues()))].sort();
    return this.counts.read(names, this.clock.now());
  }

  async listDead(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const queues = filter.queue === undefined ? await this.ledger.knownQueues() : [filter.queue];
    const letters = await this.deadLetters.list(queues);
    const offset = filter.offset ?? 0;
    return letters.slice(offset, offset + (filter.limit ?? 100));
  }

  async getDead(id: string): Promise<DeadLetter | undefined> {
    return (await this.deadLetters.list(await this.ledger.knownQueues())).find((letter) => letter.envelope.id === id);
  }

  async retryDead(selector: DeadLetterSelector): Promise<TaskEnvelope[]> {
    const now = this.clock.now();
    const retried: TaskEnvelope[] = [];
    await this.deadLetters.visit(await this.queuesOf(selector), async (letter) => {
      if (!this.deadLetters.selects(selector, letter)) return 'keep';
      const { runAt: _earlier, ...rest } = letter.envelope;
      const fresh: TaskEnvelope = { ...rest, enqueuedAt: now };
      await this.ledger.restart(fresh);
      await this.publisher.publishTask(fresh, { attempts: 0, deaths: 0, dueAt: now }, now);
      retried.push(fresh);
      return 'remove';
    });
    for (const envelope of retried) this.counts.forget(envelope.queue);
    if (retried.length > 0) this.changes.emit('change', 'tasks');
    return retried;
  }

  async purgeDead(selector: DeadLetterSelector): Promise<string[]> {
    const purged: string[] = [];
    await this.deadLetters.visit(await this.queuesOf(selector), (letter) => {
      if (!this.deadLetters.selects(selector, letter)) return 'keep';
      purged.push(letter.envelope.id);
      this.counts.forget(letter.envelope.queue);
      return 'remove';
    });
    return purged;
  }

  /** Finished tasks expire from the ledger by themselves; RabbitMQ forgets acked messages. */
  async prune(_retention: Retention): Promise<number> {
    return 0;
  }

  subscribe(listener: (change: BrokerChange) => void): () => void {
    this.changes.on('change', listener);
    void this.listenToLedger();
    return () => this.changes.off('change', listener);
  }

  /**
   * Calls back when the connection to RabbitMQ is lost after being up, and
   * when it is back (see outageReporter); and when RabbitMQ blocks it (an
   * alarm: low on disk space or memory) and lifts the block. Returns the
   * unsubscribe.
   */
  watchConnection(listener: (change: ConnectionChange) => void): () => void {
    const outages = outageReporter(listener, this.session.current !== undefined);
    const onUp = () => outages.connected();
    const onDown = (error: Error | undefined) => outages.disconnected(error?.message);
    const onBlocked = (reason: string) => listener({ up: true, blocked: true, reason });
    const onUnblocked = () => listener({ up: true, blocked: false });
    this.session.on('up', onUp);
    this.session.on('down', onDown);
    this.session.on('blocked', onBlocked);
    this.session.on('unblocked', onUnblocked);
    return () => {
      this.session.off('up', onUp);
      this.session.off('down', onDown);
      this.session.off('blocked', onBlocked);
      this.session.off('unblocked', onUnblocked);
    };
  }

  /** Resolves once RabbitMQ and the ledger's Redis both answer; fails after `timeoutMs` naming each that does not. */
  async ready(timeoutMs: number): Promise<void> {
    await allReady([this.session.ready(timeoutMs), this.ledger.ready(timeoutMs)]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.close()));
    await this.session.close();
    await this.ledger.close();
  }

  private consumer(owner: string, queue: string): QueueConsumer {
    const key = `${owner}\n${queue}`;
    let consumer = this.consumers.get(key);
    if (!consumer) {
      consumer = new QueueConsumer({
        session: this.session,
        ledger: this.ledger,
        publisher: this.publisher,
        clock: this.clock,
        owner,
        queue,
        onReady: () => this.changes.emit('change', 'tasks'),
      });
      this.consumers.set(key, consumer);
    }
    return consumer;
  }

  private route(delivery: Delivery): { owner: string; consumer: QueueConsumer | undefined } {
    const owner = delivery.tag.slice(0, delivery.tag.indexOf('|'));
    return { owner, consumer: this.consumers.get(`${owner}\n${delivery.envelope.queue}`) };
  }

  /** The delivery's owner and consumer if the owner still holds it; otherwise its copy is acked, and nothing else happens. */
  private async stillHeld(delivery: Delivery): Promise<{ owner: string; consumer: QueueConsumer | undefined } | undefined> {
    const route = this.route(delivery);
    if (await this.ledger.holds(delivery.envelope, route.owner, generationOf(delivery))) return route;
    route.consumer?.settle(delivery.envelope.id, 'ack');
    return undefined;
  }

  private async queuesOf(selector: DeadLetterSelector): Promise<string[]> {
    return 'queue' in selector ? [selector.queue] : this.ledger.knownQueues();
  }

  /** Cancel requests and freed keys reach this process through Redis pub/sub. */
  private listenToLedger(): Promise<void> {
    this.subscribed ??= this.ledger
      .subscribe(
        () => this.changes.emit('change', 'cancellations'),
        () => this.consumers.forEach((consumer) => consumer.retryParked()),
      )
      .catch(() => {
        // Closed while it subscribed, or Redis is away: nobody waits on this, and the next claim or subscribe tries again.
        this.subscribed = undefined;
      });
    return this.subscribed;
  }
}

/** The attempt a delivery is: the ledger's generation for it. */
function generationOf(delivery: Delivery): number {
  return delivery.attempts + delivery.deaths;
}

/** A requeued task keeps its key's lease this much longer than its delay, for some pool to claim it again. */
const LEASE_AFTER_REQUEUE_MS = 30_000;

/**
 * How long an enqueue waits while RabbitMQ blocks publishing (a disk or
 * memory alarm) before it fails: as long as a client waits for a server that
 * is down (connectTimeoutMs' default). A pool's own publishes (retries, dead
 * letters) wait for the alarm to lift instead.
 */
export const ENQUEUE_BLOCKED_LIMIT_MS = 10_000;
