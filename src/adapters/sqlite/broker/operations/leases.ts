import type Database from 'better-sqlite3';

/** Extends every lease an owner holds: one statement per heartbeat, whatever the number of tasks. */
export function renewLeasesOperation(db: Database.Database): (owner: string, leaseUntil: number) => void {
  const renew = db.prepare(`UPDATE broker_tasks SET lease_until = ? WHERE lease_owner = ? AND state = 'running'`);
  return (owner, leaseUntil) => {
    renew.run(leaseUntil, owner);
  };
}

/**
 * Returns to the queue the tasks of an owner known to be dead, or the tasks
 * whose lease ran out. They keep their counters: the pool died, not the task.
 */
export function reclaimOperation(db: Database.Database): (selector: { owner: string } | { expiredBefore: number }) => number {
  const byOwner = db.prepare(`
    UPDATE broker_tasks SET state = 'queued', lease_owner = NULL, lease_until = NULL
    WHERE lease_owner = ? AND state = 'running'`);
  const expired = db.prepare(`
    UPDATE broker_tasks SET state = 'queued', lease_owner = NULL, lease_until = NULL
    WHERE state = 'running' AND lease_owner IS NOT NULL AND lease_until < ?`);
  return (selector) => ('owner' in selector ? byOwner.run(selector.owner) : expired.run(selector.expiredBefore)).changes;
}
