import type Database from 'better-sqlite3';

/**
 * Keeps the key invariant: among a key's unfinished tasks only the oldest has
 * key_blocked = 0. Called after any task of a key stops being unfinished.
 */
export function keyHeadOperation(db: Database.Database): (queue: string, key: string | null) => void {
  const unblock = db.prepare(`
    UPDATE broker_tasks SET key_blocked = 0
    WHERE seq = (
      SELECT min(seq) FROM broker_tasks
      WHERE queue = ? AND key = ? AND state IN ('queued', 'running')
    ) AND key_blocked = 1`);
  return (queue, key) => {
    if (key !== null) unblock.run(queue, key);
  };
}
