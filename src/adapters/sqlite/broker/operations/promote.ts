import type Database from 'better-sqlite3';

export interface PromoteOperation {
  /** Whether a delayed task of the queue is due: a read, so that a claim takes the write lock only when one is. */
  anyDue(queue: string, now: number): boolean;
  /** Makes the queue's due delayed tasks ready (a batch at a time); returns how many. */
  promote(queue: string, now: number): number;
}

/** How many delayed tasks one claim makes ready at most: the rest follow with the next claims. */
const PROMOTE_BATCH = 1000;

/**
 * Delayed tasks join the ready ones once due. They keep their seq, so a retry
 * stays the head of its key and runs before younger tasks, as it did.
 */
export function promoteOperation(db: Database.Database): PromoteOperation {
  const due = db.prepare(`
    SELECT 1 FROM broker_tasks WHERE queue = ? AND state = 'queued' AND key_blocked = 0 AND delayed = 1 AND due_at <= ? LIMIT 1`);
  const promote = db.prepare(`
    UPDATE broker_tasks SET delayed = 0 WHERE seq IN (
      SELECT seq FROM broker_tasks WHERE queue = ? AND state = 'queued' AND key_blocked = 0 AND delayed = 1 AND due_at <= ?
      LIMIT ${PROMOTE_BATCH})`);
  return {
    anyDue: (queue, now) => due.get(queue, now) !== undefined,
    promote: (queue, now) => promote.run(queue, now).changes,
  };
}
