import type { DeadReason } from '../../core/task-record.js';
import type { Delivery } from '../../ports/broker.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { Settlement } from '../../ports/settlement.js';
import type { TaskUpdate } from '../../ports/store.js';
import { completeOperation } from './broker/operations/complete.js';
import { deadLetterOperation } from './broker/operations/dead-letter.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { taskRecordOperations } from './store/task-records.js';

/**
 * The embedded broker and store write to the same database, so a task's
 * record and its ack go into one transaction (a savepoint in the group
 * commit): one commit where there were two, and no crash can separate them.
 */
export class SqliteSettlement implements Settlement {
  private readonly completeInOne;
  private readonly deadLetterInOne;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    const db = database.db;
    const records = taskRecordOperations(db);
    const complete = completeOperation(db);
    this.completeInOne = db.transaction((delivery: Delivery, outcome: 'succeeded' | 'cancelled', record: TaskUpdate, now: number) => ({
      final: records.update([record], now),
      acked: complete(delivery, outcome, now),
    }));
    const deadLetter = deadLetterOperation(db);
    this.deadLetterInOne = db.transaction((delivery: Delivery, reason: DeadReason, record: TaskUpdate, now: number) => {
      records.update([record], now);
      return deadLetter(delivery, reason, now);
    });
  }

  async complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled', record: TaskUpdate): Promise<void> {
    const { final, acked } = await this.database.write(() => this.completeInOne(delivery, outcome, record, this.clock.now()));
    // The same wake-ups as the store's updateTasks and the broker's complete would have sent.
    if (final) this.database.changes.notifyLocal('store');
    if (acked && delivery.envelope.key !== undefined) this.database.changes.notifyLocal('tasks');
  }

  async deadLetter(delivery: Delivery, reason: DeadReason, record: TaskUpdate): Promise<void> {
    const buried = await this.database.write(() => this.deadLetterInOne(delivery, reason, record, this.clock.now()));
    this.database.changes.notifyLocal('store');
    if (buried && delivery.envelope.key !== undefined) this.database.changes.notifyLocal('tasks');
  }
}
