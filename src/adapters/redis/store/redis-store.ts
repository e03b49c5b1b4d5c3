import type { Redis } from 'ioredis';
import type { TaskRecord } from '../../../core/task-record.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { DecisionRecord, PoolLimits, PoolSnapshot, Retention, Store, TaskUpdate } from '../../../ports/store.js';
import { Controls } from './controls.js';
import type { ConnectionChange } from '../../outage-reporter.js';
import { connectRedis, DEFAULT_REDIS_PREFIX, waitUntilReady, watchConnection } from '../redis-connection.js';
import { closeClient } from '../close-client.js';
import { DecisionLog } from './decisions.js';
import { abandonedByClose, closedStore, storeFailure } from './failures.js';
import { FinalWatch } from './final-watch.js';
import { StoreKeys } from './keys.js';
import { PoolRegistry } from './pools.js';
import { createTasksScript } from './scripts/create-tasks.js';
import { listPoolsScript } from './scripts/list-pools.js';
import { pruneTasksScript } from './scripts/prune-tasks.js';
import { recordDecisionScript } from './scripts/record-decision.js';
import { replaceTaskScript } from './scripts/replace-task.js';
import { installScripts } from '../lua-script.js';
import { upsertTasksScript, type RecordWrite } from './scripts/upsert-tasks.js';
import { updateFields } from './task-hash.js';
import { TaskRecords } from './task-records.js';

export interface RedisStoreOptions {
  url: string;
  /** Starts every key and channel of this store (DEFAULT_REDIS_PREFIX unless given). */
  prefix?: string;
  clock?: Clock;
}

const SCRIPTS = [createTasksScript, replaceTaskScript, upsertTasksScript, pruneTasksScript, listPoolsScript, recordDecisionScript];

/**
 * The production store: task records, pools and decisions in Redis (key
 * layout in keys.ts), shared by every pool manager and client of a
 * deployment. It owns its connections: one for commands, and one for the
 * final channel, opened by the first watchFinal.
 *
 * Retention. The Store interface hands the retention only to prune, yet a
 * record gets its TTL when it becomes final. So prune stores maxAgeMs in
 * Redis (`retention-ms`) and the scripts that make a record final read it
 * from there (24 h until a prune ran): one source of truth for every process
 * of the deployment, not a value each remembers. The TTL is a backstop that
 * needs no prune to run; prune still deletes by finishedAt and by count, so
 * its promises hold exactly whatever the TTLs are.
 */
export class RedisStore implements Store {
  private readonly url: string;
  private readonly keys: StoreKeys;
  private readonly client: Redis;
  private readonly clock: Clock;
  private readonly tasks: TaskRecords;
  private readonly pools: PoolRegistry;
  private readonly decisions: DecisionLog;
  private readonly finals: FinalWatch;
  private readonly controls: Controls;
  private closing: Promise<void> | undefined;
  /**
   * Rejects a call still waiting once the store is closed: disconnected,
   * ioredis leaves the commands it queued for an unreachable Redis pending forever.
   */
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(options: RedisStoreOptions) {
    this.url = options.url;
    this.clock = options.clock ?? systemClock;
    const keys = new StoreKeys(options.prefix ?? DEFAULT_REDIS_PREFIX);
    this.keys = keys;
    this.client = connectRedis(this.url);
    installScripts(this.client, SCRIPTS);
    this.tasks = new TaskRecords(this.client, keys);
    this.pools = new PoolRegistry(this.client, keys);
    this.decisions = new DecisionLog(this.client, keys);
    this.controls = new Controls(this.client, keys);
    this.finals = new FinalWatch({
      channel: keys.finalChannel,
      // Named apart, so that CLIENT LIST tells the waiting connections from the working ones.
      connect: () => connectRedis(this.url, { connectionName: 'gaffer-watch' }),
      read: (ids) => this.tasks.get(ids),
    });
  }

  /** An update as updateTasks would write it, for a script that writes it along with its own step (see RedisSettlement). */
  recordWrite(update: TaskUpdate): RecordWrite {
    const now = this.clock.now();
    const fields = updateFields(update, now);
    return { keys: this.keys, upsert: { id: update.id, now, whenCreated: fields.whenCreated, update: fields.update } };
  }

  recordEnqueued(records: readonly TaskRecord[]): Promise<void> {
    return this.run('record enqueued tasks', () => this.tasks.create(records, this.clock.now()));
  }

  replaceTasks(records: readonly TaskRecord[]): Promise<void> {
    return this.run('replace task records', () => this.tasks.replace(records, this.clock.now()));
  }

  updateTasks(updates: readonly TaskUpdate[]): Promise<void> {
    return this.run('update task records', () => this.tasks.update(updates, this.clock.now()));
  }

  getTasks(ids: readonly string[]): Promise<TaskRecord[]> {
    return this.run('read task records', () => this.tasks.get(ids));
  }

  watchFinal(ids: readonly string[], listener: (record: TaskRecord) => void): () => void {
    return this.finals.watch(ids, listener);
  }

  reportPool(snapshot: PoolSnapshot): Promise<void> {
    return this.run(`record the heartbeat of pool ${snapshot.id}`, () => this.pools.report(snapshot, this.clock.now()));
  }

  removePool(poolId: string): Promise<void> {
    return this.run(`remove pool ${poolId}`, () => this.pools.remove(poolId));
  }

  listPools(): Promise<PoolSnapshot[]> {
    return this.run('list the pools', () => this.pools.listLive(this.clock.now()));
  }

  recordDecision(decision: DecisionRecord): Promise<void> {
    return this.run(`record a scaling decision of pool ${decision.poolId}`, () => this.decisions.record(decision));
  }

  listDecisions(filter: { limit: number; poolId?: string }): Promise<DecisionRecord[]> {
    return this.run('list scaling decisions', () => this.decisions.list(filter));
  }

  prune(retention: Retention): Promise<number> {
    return this.run('prune old task records', () => this.tasks.prune(retention));
  }

  setQueuePaused(queue: string, paused: boolean): Promise<void> {
    return this.run(paused ? 'pause a queue' : 'resume a queue', () => this.controls.setQueuePaused(queue, paused));
  }

  pausedQueues(): Promise<string[]> {
    return this.run('read the paused queues', () => this.controls.pausedQueues());
  }

  setPoolLimits(poolId: string, limits: PoolLimits | null): Promise<void> {
    return this.run("set a pool's limits", () => this.controls.setPoolLimits(poolId, limits));
  }

  poolLimits(poolId: string): Promise<PoolLimits | undefined> {
    return this.run("read a pool's limits", () => this.controls.poolLimits(poolId));
  }

  /** Resolves once Redis answers; fails after `timeoutMs` (see waitUntilReady). */
  ready(timeoutMs: number): Promise<void> {
    return waitUntilReady(this.client, this.url, timeoutMs);
  }

  /** Calls back when the connection to Redis is lost after being up, and when it is back; returns the unsubscribe. */
  watchConnection(listener: (change: ConnectionChange) => void): () => void {
    return watchConnection(this.client, listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.finals.close();
      // Connected, this waits for every reply; so only commands that Redis never saw are abandoned below.
      await closeClient(this.client);
      for (const abandon of this.waiting) abandon(abandonedByClose(this.url));
    })();
    return this.closing;
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    if (this.closing) throw closedStore(this.url);
    let abandon!: (error: Error) => void;
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.waiting.add(abandon);
    try {
      return await Promise.race([work(), abandoned]);
    } catch (error) {
      throw storeFailure(this.url, action, error);
    } finally {
      this.waiting.delete(abandon);
    }
  }
}
