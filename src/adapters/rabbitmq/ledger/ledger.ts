import type { Redis } from 'ioredis';
import type { TaskEnvelope } from '../../../core/envelope.js';
import type { CancelResult } from '../../../ports/broker.js';
import { closeClient } from '../../redis/close-client.js';
import { connectRedis, waitUntilReady } from '../../redis/redis-connection.js';
import { CANCEL } from './scripts/cancel.js';
import { CLAIM } from './scripts/claim.js';
import { FINISH } from './scripts/finish.js';
import { RECORD_AND_FINISH } from './scripts/record-and-finish.js';
import { MARK_QUEUED } from './scripts/mark-queued.js';
import { REGISTER } from './scripts/register.js';
import { RENEW } from './scripts/renew.js';
import { runningCountKeys } from './scripts/running-counts.js';
import { REQUEUE } from './scripts/requeue.js';
import { installScripts, queueScript, runScript, type RedisScript } from '../../redis/lua-script.js';
import { inChunks, ITEMS_PER_CALL } from '../../redis/script-batches.js';
import { upsertItem, type RecordWrite } from '../../redis/store/scripts/upsert-tasks.js';
import { StoreKeys } from '../../redis/store/keys.js';
import { ConfigError } from '../../../core/errors.js';
import { TurnBatch } from '../../../core/turn-batch.js';

export type ClaimVerdict = 'run' | 'mine' | 'key_busy' | 'cancel_requested' | 'drop';

interface Finishing {
  envelope: TaskEnvelope;
  state: 'done' | 'dead' | 'cancelled';
  owner: string;
  generation: number;
}

export interface ClaimItem {
  envelope: TaskEnvelope;
  generation: number;
}

const SCRIPTS = {
  register: { name: 'gafferRegister', keys: 'variable', lua: REGISTER },
  markQueued: { name: 'gafferMarkQueued', keys: 'variable', lua: MARK_QUEUED },
  claim: { name: 'gafferClaim', keys: 'variable', lua: CLAIM },
  finish: { name: 'gafferFinish', keys: 'variable', lua: FINISH },
  recordAndFinish: { name: 'gafferRecordAndFinish', keys: 'variable', lua: RECORD_AND_FINISH },
  requeue: { name: 'gafferRequeue', keys: 2, lua: REQUEUE },
  cancel: { name: 'gafferCancel', keys: 1, lua: CANCEL },
  renew: { name: 'gafferRenew', keys: 'variable', lua: RENEW },
} satisfies Record<string, RedisScript>;

/**
 * What RabbitMQ cannot answer, kept in Redis beside it: which task ids exist
 * (idempotent enqueue), what state each task is in (so a redelivered or stale
 * copy is never run twice), who runs what (cancellation, running counts), the
 * lease of each key (tasks of a key never run at the same time, in any pool),
 * and arrival counters. One Lua script per atomic step, under ./scripts.
 *
 * A task's fields here live in the hash of its store record (short names:
 * s state, q queue, ty type, g attempt generation, k key, o owner, c cancel
 * requested, u first seen unknown), so that ending a task writes one hash
 * (RECORD_AND_FINISH); a final task's hash expires as a final record's does,
 * and a prune forgets the record's fields but leaves these until then.
 */
export class Ledger {
  private readonly redis: Redis;
  private subscriber: Redis | undefined;
  private readonly finishes: TurnBatch<Finishing, boolean>;
  private readonly recordedFinishes: TurnBatch<Finishing & { record: RecordWrite }, boolean>;
  /** Key names are a prefix and an id or a queue; the hot scripts get the prefixes and build the names themselves. */
  private readonly prefixes: { task: string; cancelledQueued: string; group: string; arrivals: string };
  /** Where the store keeps the retention that sets the TTL of final task hashes (see FINAL_TTL). */
  private readonly retentionKey: string;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly groupTtlSeconds = 24 * 3600,
  ) {
    const storeKeys = new StoreKeys(prefix);
    this.retentionKey = storeKeys.retention;
    this.prefixes = {
      task: storeKeys.taskPrefix,
      cancelledQueued: `${prefix}cancelled-queued:`,
      group: `${prefix}group:`,
      arrivals: `${prefix}arrivals:`,
    };
    this.redis = connectRedis(url);
    installScripts(this.redis, Object.values(SCRIPTS));
    this.finishes = new TurnBatch((items) => this.finishAll(items), ITEMS_PER_CALL);
    this.recordedFinishes = new TurnBatch((items) => this.recordAndFinishAll(items), ITEMS_PER_CALL);
  }

  readonly channels = { cancel: () => `${this.prefix}cancel`, keyFree: () => `${this.prefix}keyfree` };

  private task(id: string): string {
    return this.prefixes.task + id;
  }

  private arrivalsKey(queue: string): string {
    return this.prefixes.arrivals + queue;
  }

  private cancelling(owner: string): string {
    return `${this.prefix}cancelling:${owner}`;
  }

  private cancelledQueued(queue: string): string {
    return this.prefixes.cancelledQueued + queue;
  }

  /** The name of a key's lease; a dummy (never set) for tasks without a key, for scripts that take it as one of their KEYS. */
  keyLease(envelope: TaskEnvelope): string {
    return envelope.key === undefined ? `${this.prefix}nokey` : `${this.prefix}key:${envelope.queue}:${envelope.key}`;
  }

  /**
   * The key's lease name in a script's JSON argument: '' for a task without a
   * key, which the scripts never look up. Every string in the argument costs
   * Redis to decode: with the final set written once a call, record-and-finish
   * took Redis 3-4% less of its own time (interleaved runs of both versions).
   */
  private leaseArg(envelope: TaskEnvelope): string {
    return envelope.key === undefined ? '' : this.keyLease(envelope);
  }

  /** Registers ids before publishing; 'new' for fresh ids, else their current state. */
  async register(envelopes: readonly TaskEnvelope[]): Promise<string[]> {
    return inChunks(envelopes, (chunk) => {
      const tasks = chunk.map((envelope) => [envelope.id, envelope.queue, envelope.type, envelope.group ?? '', envelope.key ?? '']);
      const { task, group, arrivals } = this.prefixes;
      const args = [this.groupTtlSeconds, task, group, arrivals, JSON.stringify(tasks)];
      return runScript(this.redis, SCRIPTS.register, [`${this.prefix}queues`], args) as Promise<string[]>;
    });
  }

  async markQueued(envelopes: readonly TaskEnvelope[]): Promise<void> {
    await inChunks(envelopes, async (chunk) => {
      await runScript(this.redis, SCRIPTS.markQueued, [], [this.prefixes.task, JSON.stringify(chunk.map((envelope) => envelope.id))]);
      return [];
    });
  }

  /** Decides the fate of a batch of deliveries (see the claim script). */
  async claim(items: readonly ClaimItem[], owner: string, leaseMs: number, now: number): Promise<ClaimVerdict[]> {
    return inChunks(items, (chunk) => {
      const { task, cancelledQueued } = this.prefixes;
      const args = [this.prefix, owner, now + leaseMs, leaseMs, task, cancelledQueued, this.attemptsJson(chunk)];
      return runScript(this.redis, SCRIPTS.claim, [], args) as Promise<ClaimVerdict[]>;
    });
  }

  /**
   * Ends the task if `owner` still holds this attempt of it; false (nothing
   * changed) otherwise. With `record`, the task's store record is written in
   * the same step, held or not (see RECORD_AND_FINISH). The tasks ended in one
   * turn of the event loop go to Redis in one call.
   */
  finish(envelope: TaskEnvelope, state: 'done' | 'dead' | 'cancelled', owner: string, generation: number, record?: RecordWrite): Promise<boolean> {
    return record ? this.recordedFinishes.add({ envelope, state, owner, generation, record }) : this.finishes.add({ envelope, state, owner, generation });
  }

  private async finishAll(items: readonly Finishing[]): Promise<boolean[]> {
    const keys: string[] = [];
    const args: Array<string | number> = [this.retentionKey, this.channels.keyFree(), this.prefix];
    for (const { envelope, state, owner, generation } of items) {
      const lease = this.keyLease(envelope);
      keys.push(this.task(envelope.id), lease);
      args.push(envelope.id, state, owner, generation, envelope.queue);
    }
    const ended = (await runScript(this.redis, SCRIPTS.finish, keys, args)) as number[];
    return ended.map((flag) => flag === 1);
  }

  private async recordAndFinishAll(items: ReadonlyArray<Finishing & { record: RecordWrite }>): Promise<boolean[]> {
    // One store writes through a ledger (see RedisSettlement): the first item's keys are every item's.
    const store = items[0]!.record.keys;
    if (store.taskPrefix !== this.prefixes.task) {
      throw new ConfigError(`the store's records (${store.taskPrefix}*) and the ledger's tasks (${this.prefixes.task}*) must share one prefix: open both with the same redisPrefix`);
    }
    const tasks = items.map(({ envelope, state, owner, generation, record }) => {
      // The record is the task's own: upsertItem's id is the task's id.
      const item: unknown[] = upsertItem(record.upsert);
      item.push(state, owner, generation, envelope.queue, this.leaseArg(envelope));
      return item;
    });
    const args = [store.finalChannel, this.channels.keyFree(), this.prefix, this.prefixes.task, JSON.stringify(tasks)];
    const ended = (await runScript(this.redis, SCRIPTS.recordAndFinish, [store.finalTasks, store.retention], args)) as number[];
    return ended.map((flag) => flag === 1);
  }

  /** Queues the task again under `nextGeneration` if `owner` still holds `generation` of it; false otherwise. */
  async requeue(envelope: TaskEnvelope, owner: string, generation: number, nextGeneration: number, keepKeyMs: number): Promise<boolean> {
    const done = await runScript(
      this.redis,
      SCRIPTS.requeue,
      [this.task(envelope.id), this.keyLease(envelope)],
      [envelope.id, nextGeneration, Math.max(1, Math.round(keepKeyMs)), owner, generation, this.prefix, envelope.queue],
    );
    return done === 1;
  }

  /** Whether `owner` holds this attempt of the task (checked before publishing on its behalf). */
  async holds(envelope: TaskEnvelope, owner: string, generation: number): Promise<boolean> {
    const [state, holder, known] = await this.redis.hmget(this.task(envelope.id), 's', 'o', 'g');
    return state === 'running' && holder === owner && Number(known) === generation;
  }

  async cancel(ids: readonly string[]): Promise<CancelResult[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      queueScript(pipeline, SCRIPTS.cancel, [this.task(id)], [id, this.retentionKey, this.prefix, this.channels.cancel(), this.channels.keyFree()]);
    }
    const replies = (await execAll(pipeline)) as Array<[CancelResult['outcome'], string, string]>;
    return replies.map(([outcome, queue, type], index) => ({
      id: ids[index]!,
      outcome,
      ...(queue ? { queue } : {}),
      ...(type ? { type } : {}),
    }));
  }

  async groupMembers(group: string): Promise<string[]> {
    return this.redis.smembers(this.prefixes.group + group);
  }

  async pendingCancellations(owner: string): Promise<string[]> {
    return this.redis.smembers(this.cancelling(owner));
  }

  /** Renews the leases of what `owner` runs, and writes back what a Redis that restarted empty lost of it (see RENEW). */
  async renew(running: readonly ClaimItem[], owner: string, leaseMs: number, now: number): Promise<void> {
    await inChunks(running, async (chunk) => {
      await runScript(this.redis, SCRIPTS.renew, [], [owner, now + leaseMs, leaseMs, this.prefixes.task, this.prefix, this.attemptsJson(chunk)]);
      return [];
    });
  }

  /**
   * Attempts of tasks as the claim and renew scripts take them: one JSON
   * array, each [id, attempt generation (a decimal string: Lua would format a
   * number for every call that writes it), key ('' for none), queue, type,
   * key lease name ('' for none)].
   */
  private attemptsJson(items: readonly ClaimItem[]): string {
    return JSON.stringify(items.map(({ envelope, generation }) => [envelope.id, String(generation), envelope.key ?? '', envelope.queue, envelope.type, this.leaseArg(envelope)]));
  }

  /** Calls `listener` each time the ledger's connection to Redis is back after a loss (not at the first connection). */
  onReconnect(listener: () => void): void {
    let connectedBefore = this.redis.status === 'ready';
    this.redis.on('ready', () => {
      if (connectedBefore) listener();
      connectedBefore = true;
    });
  }

  async knownQueues(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}queues`);
  }

  /** Per queue: arrivals so far, tasks running in pools whose lease is live (see RUNNING_COUNTS), and cancelled tasks whose message is still queued. */
  async counts(queues: readonly string[], now: number): Promise<Array<{ arrivals: number; running: number; cancelledQueued: number }>> {
    const pipeline = this.redis.pipeline();
    for (const queue of queues) {
      const running = runningCountKeys(this.prefix, queue);
      pipeline.get(this.arrivalsKey(queue));
      pipeline.hgetall(running.counts);
      pipeline.hgetall(running.leases);
      pipeline.get(this.cancelledQueued(queue));
    }
    const replies = await execAll(pipeline as unknown as { exec(): Promise<Array<[Error | null, unknown]>> });
    return queues.map((_, index) => ({
      arrivals: Number(replies[4 * index] ?? 0),
      running: runningUnderLiveLeases(replies[4 * index + 1] as Record<string, string>, replies[4 * index + 2] as Record<string, string>, now),
      cancelledQueued: Number(replies[4 * index + 3] ?? 0),
    }));
  }

  /** Resets a task that starts over (a dead letter sent back): queued under generation 0, no longer expiring. Its record is the store's. */
  async restart(envelope: TaskEnvelope): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.task(envelope.id), 'o', 'c', 'u')
      .hset(this.task(envelope.id), 's', 'queued', 'q', envelope.queue, 'ty', envelope.type, 'g', 0, 'k', envelope.key ?? '')
      .persist(this.task(envelope.id))
      .incr(this.arrivalsKey(envelope.queue))
      .exec();
  }

  /** Calls back on cancel requests for any owner, and when a key lease is freed. */
  async subscribe(onCancel: (owner: string) => void, onKeyFree: (lease: string) => void): Promise<void> {
    if (this.subscriber) return;
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channels.cancel()) onCancel(message);
      else onKeyFree(message);
    });
    await this.subscriber.subscribe(this.channels.cancel(), this.channels.keyFree());
  }

  /** Resolves once Redis answers; fails after `timeoutMs` (see waitUntilReady). */
  ready(timeoutMs: number): Promise<void> {
    return waitUntilReady(this.redis, this.url, timeoutMs);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    await closeClient(this.redis);
  }
}

/** The sum of the pools' running counts whose lease has not ended; a count below zero (its tasks started before Redis lost the count) counts as none. */
function runningUnderLiveLeases(counts: Record<string, string>, leases: Record<string, string>, now: number): number {
  let running = 0;
  for (const [owner, count] of Object.entries(counts)) if (Number(leases[owner] ?? 0) > now) running += Math.max(0, Number(count));
  return running;
}

async function execAll(pipeline: { exec(): Promise<Array<[Error | null, unknown]> | null> }): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
