import type Database from 'better-sqlite3';
import type { DecisionRecord } from '../../../ports/store.js';

/** The last decisions of each pool, newest first. */
export const DECISIONS_KEPT_PER_POOL = 1000;

export interface DecisionOperations {
  record(decision: DecisionRecord): void;
  list(filter: { limit: number; poolId?: string }): DecisionRecord[];
}

export function decisionOperations(db: Database.Database): DecisionOperations {
  const insert = db.prepare(`INSERT INTO store_decisions (pool_id, at, record) VALUES (?, ?, ?)`);
  const trim = db.prepare(`
    DELETE FROM store_decisions WHERE pool_id = @pool AND seq <= (
      SELECT seq FROM store_decisions WHERE pool_id = @pool ORDER BY seq DESC LIMIT 1 OFFSET @kept
    )`);
  const all = db.prepare(`SELECT record FROM store_decisions ORDER BY seq DESC LIMIT ?`).pluck();
  const ofPool = db.prepare(`SELECT record FROM store_decisions WHERE pool_id = ? ORDER BY seq DESC LIMIT ?`).pluck();
  return {
    record: db.transaction((decision: DecisionRecord) => {
      insert.run(decision.poolId, decision.at, JSON.stringify(decision));
      trim.run({ pool: decision.poolId, kept: DECISIONS_KEPT_PER_POOL });
    }),
    list: (filter: { limit: number; poolId?: string }): DecisionRecord[] => {
      const rows = (filter.poolId === undefined ? all.all(filter.limit) : ofPool.all(filter.poolId, filter.limit)) as string[];
      return rows.map((text) => JSON.parse(text) as DecisionRecord);
    },
  };
}
