import type Database from 'better-sqlite3';
import type { CancelResult, CancelSelector } from '../../../../ports/broker.js';
import { keyHeadOperation } from './key-head.js';

interface Target {
  seq: number;
  id: string;
  queue: string;
  type: string;
  key: string | null;
  state: string;
}

/**
 * A queued task is cancelled on the spot; a running one is flagged, and the
 * pool that holds it stops it (pendingCancellations) and records the end.
 */
export function cancelOperation(db: Database.Database): (selector: CancelSelector, now: number) => CancelResult[] {
  const byId = db.prepare(`SELECT seq, id, queue, type, key, state FROM broker_tasks WHERE id = ?`);
  const byGroup = db.prepare(`
    SELECT seq, id, queue, type, key, state FROM broker_tasks
    WHERE grp = ? AND state IN ('queued', 'running') AND id != ?`);
  const cancelQueued = db.prepare(`UPDATE broker_tasks SET state = 'cancelled', finished_at = ? WHERE seq = ? AND state = 'queued'`);
  const flagRunning = db.prepare(`UPDATE broker_tasks SET cancel_requested = 1 WHERE seq = ? AND state = 'running'`);
  const keyHead = keyHeadOperation(db);

  const cancelOne = (target: Target, now: number): CancelResult => {
    const known = { id: target.id, queue: target.queue, type: target.type };
    if (target.state === 'queued' && cancelQueued.run(now, target.seq).changes > 0) {
      keyHead(target.queue, target.key);
      return { ...known, outcome: 'cancelled' };
    }
    if (target.state === 'running' && flagRunning.run(target.seq).changes > 0) return { ...known, outcome: 'stopping' };
    return { ...known, outcome: 'finished' };
  };

  return db.transaction((selector: CancelSelector, now: number) => {
    if ('group' in selector) {
      return (byGroup.all(selector.group, selector.except ?? '') as Target[]).map((target) => cancelOne(target, now));
    }
    return selector.ids.map((id) => {
      const target = byId.get(id) as Target | undefined;
      return target ? cancelOne(target, now) : { id, outcome: 'unknown' as const };
    });
  });
}

export function pendingCancellationsOperation(db: Database.Database): (owner: string) => string[] {
  const pending = db.prepare(`SELECT id FROM broker_tasks WHERE lease_owner = ? AND state = 'running' AND cancel_requested = 1`).pluck();
  return (owner) => pending.all(owner) as string[];
}
