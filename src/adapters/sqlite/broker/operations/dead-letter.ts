import type Database from 'better-sqlite3';
import type { DeadReason } from '../../../../core/task-record.js';
import type { Delivery } from '../../../../ports/broker.js';
import { parseTag } from '../task-row.js';
import { keyHeadOperation } from './key-head.js';

/** Moves a delivery to its queue's dead-letter queue, with the reason, and lets its key move on. */
export function deadLetterOperation(db: Database.Database): (delivery: Delivery, reason: DeadReason, now: number) => boolean {
  const bury = db.prepare(`
    UPDATE broker_tasks SET state = 'dead', dead_reason = @reason, finished_at = @now,
      lease_owner = NULL, lease_until = NULL,
      attempts = CASE WHEN @attempts > attempts THEN @attempts ELSE attempts END,
      deaths = CASE WHEN @deaths > deaths THEN @deaths ELSE deaths END
    WHERE seq = @seq AND claims = @claims AND lease_owner = @owner AND state = 'running'`);
  const keyHead = keyHeadOperation(db);
  return db.transaction((delivery: Delivery, reason: DeadReason, now: number) => {
    const lease = parseTag(delivery.tag);
    const { changes } = bury.run({
      ...lease,
      now,
      reason: JSON.stringify(reason),
      attempts: reason.kind === 'failed' || reason.kind === 'timeout' ? reason.attempts : 0,
      deaths: reason.kind === 'crashed' ? reason.deaths : 0,
    });
    if (changes > 0) keyHead(delivery.envelope.queue, delivery.envelope.key ?? null);
    return changes > 0;
  });
}
