import type { Backend } from '../adapters/open-backend.js';
import type { QueueStats } from '../ports/broker.js';
import type { DecisionRecord, PoolSnapshot, PoolTaskStats } from '../ports/store.js';

export interface QueueView extends QueueStats {
  paused: boolean;
  /** Pools serving it, and their live workers. */
  pools: number;
  workers: number;
  arrivalsPerSecond: number;
  completedPerSecond: number;
  /**
   * Wait and run times over the last minute: each pool measures its own; the
   * queue's figure is their mean weighted by the tasks each finished.
   */
  waitMs: { p50: number; p95: number } | null;
  runMs: { p50: number; p95: number } | null;
}

export interface ClusterView {
  at: number;
  /** Where the data lives, without credentials. */
  backend: string;
  queues: QueueView[];
  pools: PoolSnapshot[];
  decisions: DecisionRecord[];
}

/**
 * Everything a person looks at to see where the work is and why the pools
 * have the size they have, read once from the broker and the store: for
 * `gaffer status`, the HTTP API, the dashboard and the metrics.
 */
export async function readCluster(backend: Backend, options: { decisions: number }): Promise<ClusterView> {
  const [stats, pools, decisions, paused] = await Promise.all([
    backend.broker.stats(),
    backend.store.listPools(),
    backend.store.listDecisions({ limit: options.decisions }),
    backend.store.pausedQueues(),
  ]);
  const names = new Set([...stats.map((s) => s.queue), ...pools.map((p) => p.queue), ...paused]);
  const byName = new Map(stats.map((s) => [s.queue, s]));
  const queues = [...names].sort().map((queue): QueueView => {
    const serving = pools.filter((pool) => pool.queue === queue);
    const base = byName.get(queue) ?? { queue, ready: 0, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: 0 };
    return {
      ...base,
      paused: paused.includes(queue),
      pools: serving.length,
      workers: serving.reduce((sum, pool) => sum + pool.workers.filter((w) => w.state !== 'retiring').length, 0),
      // Every pool of a queue sees the same arrivals: one pool's figure is the queue's.
      arrivalsPerSecond: Math.max(0, ...serving.map((pool) => pool.stats?.arrivalsPerSecond ?? 0)),
      completedPerSecond: serving.reduce((sum, pool) => sum + (pool.stats?.completedPerSecond ?? 0), 0),
      waitMs: weightedPercentiles(serving, 'waitMs'),
      runMs: weightedPercentiles(serving, 'runMs'),
    };
  });
  return { at: Date.now(), backend: backend.description, queues, pools, decisions };
}

function weightedPercentiles(pools: readonly PoolSnapshot[], which: 'waitMs' | 'runMs'): { p50: number; p95: number } | null {
  let weight = 0;
  let p50 = 0;
  let p95 = 0;
  for (const pool of pools) {
    const figures = pool.stats?.[which];
    if (!figures) continue;
    const finished = finishedCount(pool.stats!);
    weight += finished;
    p50 += figures.p50 * finished;
    p95 += figures.p95 * finished;
  }
  return weight === 0 ? null : { p50: p50 / weight, p95: p95 / weight };
}

function finishedCount(stats: PoolTaskStats): number {
  return Math.max(1, Object.values(stats.outcomes).reduce((sum, count) => sum + (count ?? 0), 0));
}
