import type { DeadReason } from '../core/task-record.js';
import type { Delivery } from './broker.js';
import type { TaskUpdate } from './store.js';

/**
 * Records a task's final outcome and acks its delivery as one atomic step.
 * A backend offers it when its broker and store share one database: there the
 * two separate steps (record, then ack) would cost two commits, and a crash
 * between them would leave a task whose outcome is recorded still leased, to
 * run a second time. Either both happen or neither does, so the promise of
 * DESIGN.md (acked only once the outcome is recorded) holds as before.
 */
export interface Settlement {
  /** The record update and the ack of `delivery` (it succeeded, or it was cancelled), committed together. */
  complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled', record: TaskUpdate): Promise<void>;
  /**
   * The record update (dead, with its reason) and the dead-lettering of
   * `delivery`, committed together where the backend has one database. Where
   * the letter lives elsewhere (a RabbitMQ queue), it is published first:
   * either way, a reader who sees the record dead finds its dead letter too.
   */
  deadLetter(delivery: Delivery, reason: DeadReason, record: TaskUpdate): Promise<void>;
}
