import type { TaskRecord } from '../../../core/task-record.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { DecisionRecord, PoolLimits, PoolSnapshot, Retention, Store, TaskUpdate } from '../../../ports/store.js';
import { controlOperations } from './controls.js';
import type { SqliteDatabase } from '../sqlite-database.js';
import { decisionOperations } from './decisions.js';
import { FinalWaiters } from './final-waiters.js';
import { poolOperations } from './pools.js';
import { taskRecordOperations } from './task-records.js';

/** The embedded store: task records, pools and decisions in the same SQLite file as the broker. */
export class SqliteStore implements Store {
  private readonly tasks;
  private readonly pools;
  private readonly decisions;
  private readonly controls;
  private readonly finals: FinalWaiters;
  private closed = false;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    database.retain();
    this.tasks = taskRecordOperations(database.db);
    this.pools = poolOperations(database.db);
    this.decisions = decisionOperations(database.db);
    this.controls = controlOperations(database.db);
    this.finals = new FinalWaiters(this.tasks, database.changes, () => this.closed);
  }

  async recordEnqueued(records: readonly TaskRecord[]): Promise<void> {
    await this.database.write(() => this.tasks.insert(records, this.clock.now()));
  }

  async replaceTasks(records: readonly TaskRecord[]): Promise<void> {
    await this.database.write(() => this.tasks.replace(records, this.clock.now()));
  }

  async updateTasks(updates: readonly TaskUpdate[]): Promise<void> {
    if (await this.database.write(() => this.tasks.update(updates, this.clock.now()))) this.database.changes.notifyLocal('store');
  }

  async getTasks(ids: readonly string[]): Promise<TaskRecord[]> {
    return this.tasks.get(ids);
  }

  watchFinal(ids: readonly string[], listener: (record: TaskRecord) => void): () => void {
    return this.finals.watch(ids, listener);
  }

  async reportPool(snapshot: PoolSnapshot): Promise<void> {
    await this.database.write(() => this.pools.report(snapshot));
  }

  async removePool(poolId: string): Promise<void> {
    await this.database.write(() => this.pools.remove(poolId));
  }

  async listPools(): Promise<PoolSnapshot[]> {
    return this.database.write(() => this.pools.listLive(this.clock.now()));
  }

  async recordDecision(decision: DecisionRecord): Promise<void> {
    await this.database.write(() => this.decisions.record(decision));
  }

  async listDecisions(filter: { limit: number; poolId?: string }): Promise<DecisionRecord[]> {
    return this.decisions.list(filter);
  }

  async prune(retention: Retention): Promise<number> {
    return this.database.write(() => this.tasks.prune(retention));
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    await this.database.write(() => this.controls.setQueuePaused(queue, paused));
  }

  async pausedQueues(): Promise<string[]> {
    return this.controls.pausedQueues();
  }

  async setPoolLimits(poolId: string, limits: PoolLimits | null): Promise<void> {
    await this.database.write(() => this.controls.setPoolLimits(poolId, limits));
  }

  async poolLimits(poolId: string): Promise<PoolLimits | undefined> {
    return this.controls.poolLimits(poolId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.release();
  }
}
