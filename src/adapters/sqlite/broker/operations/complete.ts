import type Database from 'better-sqlite3';
import type { Delivery } from '../../../../ports/broker.js';
import { parseTag } from '../task-row.js';
import { keyHeadOperation } from './key-head.js';

/** Acks a delivery held by its owner: the task is done (or cancelled) and its key moves on. */
export function completeOperation(db: Database.Database): (delivery: Delivery, outcome: 'succeeded' | 'cancelled', now: number) => boolean {
  const finish = db.prepare(`
    UPDATE broker_tasks SET state = @state, finished_at = @now, lease_owner = NULL, lease_until = NULL
    WHERE seq = @seq AND lease_owner = @owner AND state = 'running'`);
  const keyHead = keyHeadOperation(db);
  return db.transaction((delivery: Delivery, outcome: 'succeeded' | 'cancelled', now: number) => {
    const lease = parseTag(delivery.tag);
    const { changes } = finish.run({ ...lease, now, state: outcome === 'succeeded' ? 'done' : 'cancelled' });
    if (changes > 0) keyHead(delivery.envelope.queue, delivery.envelope.key ?? null);
    return changes > 0;
  });
}
