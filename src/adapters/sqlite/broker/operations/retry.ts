import type Database from 'better-sqlite3';
import type { Delivery, RetryOptions } from '../../../../ports/broker.js';
import { parseTag } from '../task-row.js';

/**
 * Puts a delivery back in its queue for a later attempt. It keeps its place
 * (its seq), so it stays the head of its key and runs before younger tasks.
 */
export function retryOperation(db: Database.Database): (delivery: Delivery, options: RetryOptions, now: number) => boolean {
  const retry = db.prepare(`
    UPDATE broker_tasks SET state = 'queued', due_at = @dueAt, delayed = @delayed, lease_owner = NULL, lease_until = NULL,
      attempts = attempts + @attempt, deaths = deaths + @death
    WHERE seq = @seq AND claims = @claims AND lease_owner = @owner AND state = 'running'`);
  return (delivery, options, now) => {
    const lease = parseTag(delivery.tag);
    const { changes } = retry.run({
      ...lease,
      dueAt: now + options.delayMs,
      delayed: options.delayMs > 0 ? 1 : 0,
      attempt: options.counts === 'attempt' ? 1 : 0,
      death: options.counts === 'death' ? 1 : 0,
    });
    return changes > 0;
  };
}
