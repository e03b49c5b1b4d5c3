import type Database from 'better-sqlite3';
import type { PoolSnapshot } from '../../../ports/store.js';

/** The pool registry: each pool's latest snapshot; one whose heartbeat is older than its TTL is gone. */
export function poolOperations(db: Database.Database) {
  const report = db.prepare(`
    INSERT INTO store_pools (id, heartbeat_at, snapshot) VALUES (?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, snapshot = excluded.snapshot`);
  const remove = db.prepare(`DELETE FROM store_pools WHERE id = ?`);
  const list = db.prepare(`SELECT snapshot FROM store_pools ORDER BY id`).pluck();
  return {
    report: (snapshot: PoolSnapshot) => report.run(snapshot.id, snapshot.heartbeatAt, JSON.stringify(snapshot)),
    remove: (poolId: string) => remove.run(poolId),
    /** Live pools; the rows of gone pools are deleted on the way. */
    listLive: (now: number): PoolSnapshot[] => {
      const pools = (list.all() as string[]).map((text) => JSON.parse(text) as PoolSnapshot);
      const live: PoolSnapshot[] = [];
      for (const pool of pools) {
        if (pool.heartbeatAt + pool.ttlMs >= now) live.push(pool);
        else remove.run(pool.id);
      }
      return live;
    },
  };
}
