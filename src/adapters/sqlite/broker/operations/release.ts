import type Database from 'better-sqlite3';
import type { Delivery } from '../../../../ports/broker.js';
import { parseTag } from '../task-row.js';

/** Gives deliveries back to their queue as they were: nothing is counted against them. */
export function releaseOperation(db: Database.Database): (deliveries: readonly Delivery[]) => number {
  const release = db.prepare(`
    UPDATE broker_tasks SET state = 'queued', lease_owner = NULL, lease_until = NULL
    WHERE seq = @seq AND claims = @claims AND lease_owner = @owner AND state = 'running'`);
  return db.transaction((deliveries: readonly Delivery[]) => {
    let released = 0;
    for (const delivery of deliveries) released += release.run(parseTag(delivery.tag)).changes;
    return released;
  });
}
