import type Database from 'better-sqlite3';
import type { Delivery } from '../../../../ports/broker.js';
import { parseTag } from '../task-row.js';
import { keyHeadOperation } from './key-head.js';

/**
 * Acks a delivery held by its owner: the task is done (or cancelled) and its
 * key moves on. Without a key it is one statement, which needs no savepoint.
 */
export function completeOperation(db: Database.Database): (delivery: Delivery, outcome: 'succeeded' | 'cancelled', now: number) => boolean {
  const finish = db.prepare(`
    UPDATE broker_tasks SET state = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL
    WHERE seq = ? AND claims = ? AND lease_owner = ? AND state = 'running'`);
  const keyHead = keyHeadOperation(db);
  const complete = (delivery: Delivery, outcome: 'succeeded' | 'cancelled', now: number): boolean => {
    const { seq, claims, owner } = parseTag(delivery.tag);
    return finish.run(outcome === 'succeeded' ? 'done' : 'cancelled', now, seq, claims, owner).changes > 0;
  };
  const completeKeyed = db.transaction((delivery: Delivery, outcome: 'succeeded' | 'cancelled', now: number) => {
    const done = complete(delivery, outcome, now);
    if (done) keyHead(delivery.envelope.queue, delivery.envelope.key ?? null);
    return done;
  });
  return (delivery, outcome, now) => (delivery.envelope.key === undefined ? complete : completeKeyed)(delivery, outcome, now);
}
