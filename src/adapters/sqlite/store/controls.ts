import type Database from 'better-sqlite3';
import type { PoolLimits } from '../../../ports/store.js';

/** Run-time controls set through the API or the dashboard: paused queues, pool limits. */
export interface ControlOperations {
  setQueuePaused(queue: string, paused: boolean): void;
  pausedQueues(): string[];
  setPoolLimits(poolId: string, limits: PoolLimits | null): void;
  poolLimits(poolId: string): PoolLimits | undefined;
}

export function controlOperations(db: Database.Database): ControlOperations {
  const pause = db.prepare(`INSERT INTO store_paused_queues (queue) VALUES (?) ON CONFLICT (queue) DO NOTHING`);
  const resume = db.prepare(`DELETE FROM store_paused_queues WHERE queue = ?`);
  const paused = db.prepare(`SELECT queue FROM store_paused_queues ORDER BY queue`).pluck();
  const setLimits = db.prepare(`
    INSERT INTO store_pool_limits (pool_id, min, max) VALUES (?, ?, ?)
    ON CONFLICT (pool_id) DO UPDATE SET min = excluded.min, max = excluded.max`);
  const clearLimits = db.prepare(`DELETE FROM store_pool_limits WHERE pool_id = ?`);
  const limits = db.prepare(`SELECT min, max FROM store_pool_limits WHERE pool_id = ?`);
  return {
    setQueuePaused: (queue, isPaused) => void (isPaused ? pause : resume).run(queue),
    pausedQueues: () => paused.all() as string[],
    setPoolLimits: (poolId, value) => void (value ? setLimits.run(poolId, value.min, value.max) : clearLimits.run(poolId)),
    poolLimits: (poolId) => limits.get(poolId) as PoolLimits | undefined,
  };
}
