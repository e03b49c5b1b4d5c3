import type Database from 'better-sqlite3';
import type { Retention } from '../../../../ports/store.js';

/**
 * Finished tasks stay as tombstones so that their ids stay taken (idempotent
 * enqueue) for as long as the store keeps their records; then they go.
 */
export function pruneFinishedOperation(db: Database.Database): (retention: Retention) => number {
  const byAge = db.prepare(`DELETE FROM broker_tasks WHERE state IN ('done', 'cancelled') AND finished_at < ?`);
  const count = db.prepare(`SELECT count(*) FROM broker_tasks WHERE state IN ('done', 'cancelled')`).pluck();
  const oldest = db.prepare(`
    DELETE FROM broker_tasks WHERE seq IN (
      SELECT seq FROM broker_tasks WHERE state IN ('done', 'cancelled') ORDER BY finished_at LIMIT ?
    )`);
  return db.transaction((retention: Retention) => {
    let removed = byAge.run(retention.now - retention.maxAgeMs).changes;
    const excess = (count.get() as number) - retention.maxRecords;
    if (excess > 0) removed += oldest.run(excess).changes;
    return removed;
  });
}
