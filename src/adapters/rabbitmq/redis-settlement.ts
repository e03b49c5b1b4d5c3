import type { DeadReason } from '../../core/task-record.js';
import type { Delivery } from '../../ports/broker.js';
import type { Settlement } from '../../ports/settlement.js';
import type { TaskUpdate } from '../../ports/store.js';
import type { RedisStore } from '../redis/store/redis-store.js';
import type { RabbitBroker } from './rabbit-broker.js';

/**
 * RabbitMQ's ledger and the task records share one Redis (and one prefix), so
 * a task's record and its end in the ledger are one script call
 * (RECORD_AND_FINISH), then the message is acked. One round trip where there
 * were two, and a pool that dies after the record can no longer leave the
 * task running in the ledger, where its redelivered message would run again.
 */
export class RedisSettlement implements Settlement {
  constructor(
    private readonly broker: RabbitBroker,
    private readonly store: RedisStore,
  ) {}

  complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled', record: TaskUpdate): Promise<void> {
    return this.broker.completeRecorded(delivery, outcome, this.store.recordWrite(record));
  }

  deadLetter(delivery: Delivery, reason: DeadReason, record: TaskUpdate): Promise<void> {
    return this.broker.deadLetterRecorded(delivery, reason, this.store.recordWrite(record));
  }
}
