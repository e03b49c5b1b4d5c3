import type { QueueView, ClusterView } from '../../../views/cluster-view.js';
import type { DecisionRecord, PoolSnapshot, WorkerSnapshot } from '../../../ports/store.js';
import type { DashboardQuery } from './query.js';

/**
 * What one server-sent event carries: the whole cluster in a few totals, the
 * pages of each table the client shows, one point of the chart, and the
 * scaling decisions the client has not seen yet.
 */
export interface Frame {
  at: number;
  backend: string;
  /** The queue the client focuses on (chart, pools, workers, dead letters), or null for all. */
  focus: string | null;
  totals: Totals;
  point: ChartPoint;
  /** The chart so far, in the first frame of a stream only. */
  history?: ChartPoint[];
  queues: Page<QueueView>;
  pools: Page<PoolRow>;
  workers: Page<WorkerRow>;
  dead: Page<DeadLetterRow>;
  failures: FailureRow[];
  decisions: DecisionRecord[];
}

export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface Totals {
  queues: number;
  paused: number;
  pools: number;
  workers: number;
  busy: number;
  ready: number;
  blocked: number;
  delayed: number;
  running: number;
  dead: number;
  desired: number;
}

/** One moment of the chart: tasks waiting to start (ready or behind their key), running, and the pools' desired and actual size. */
export interface ChartPoint {
  at: number;
  queued: number;
  running: number;
  desired: number;
  workers: number;
}

/** A pool without its worker list (that has its own table), with the decision that explains its size. */
export type PoolRow = Omit<PoolSnapshot, 'workers'> & { live: number; busy: number; lastDecision: DecisionRecord | null };

export type WorkerRow = WorkerSnapshot & { poolId: string; queue: string; hostname: string; poolPid: number };

export interface DeadLetterRow {
  id: string;
  queue: string;
  type: string;
  key?: string;
  kind: string;
  reason: string;
  attempts: number;
  deaths: number;
  deadAt: number;
  /** The start of the payload: enough to recognise the task, never a megabyte per second. */
  payload: string;
}

export interface FailureRow {
  id: string;
  queue: string;
  type: string;
  /** retrying, dead, or queued again after its worker died. */
  state: string;
  at: number;
  pid: number;
  message: string;
}

export function decisionKey(decision: DecisionRecord): string {
  return `${decision.poolId}|${decision.at}|${decision.from}|${decision.to}|${decision.reason}`;
}

/** Whether a queue or pool is in the client's focus (everything is, without one). */
export function inFocus(focus: string | undefined, queue: string): boolean {
  return focus === undefined || focus === queue;
}

export function liveWorkers(pool: PoolSnapshot): WorkerSnapshot[] {
  return pool.workers.filter((worker) => worker.state !== 'retiring');
}

export function totalsOf(cluster: ClusterView): Totals {
  const totals: Totals = {
    queues: cluster.queues.length,
    paused: 0,
    pools: cluster.pools.length,
    workers: 0,
    busy: 0,
    ready: 0,
    blocked: 0,
    delayed: 0,
    running: 0,
    dead: 0,
    desired: 0,
  };
  for (const queue of cluster.queues) {
    if (queue.paused) totals.paused++;
    totals.ready += queue.ready;
    totals.blocked += queue.blocked;
    totals.delayed += queue.delayed;
    totals.running += queue.running;
    totals.dead += queue.dead;
  }
  for (const pool of cluster.pools) {
    const live = liveWorkers(pool);
    totals.workers += live.length;
    totals.busy += live.filter((worker) => worker.state === 'busy').length;
    if (!pool.draining) totals.desired += pool.desired;
  }
  return totals;
}

/** The chart's point for one focus ('' for the whole cluster). */
export function chartPointOf(cluster: ClusterView, focus: string): ChartPoint {
  const scope = focus === '' ? undefined : focus;
  const point: ChartPoint = { at: cluster.at, queued: 0, running: 0, desired: 0, workers: 0 };
  for (const queue of cluster.queues) {
    if (!inFocus(scope, queue.queue)) continue;
    point.queued += queue.ready + queue.blocked;
    point.running += queue.running;
  }
  for (const pool of cluster.pools) {
    if (!inFocus(scope, pool.queue)) continue;
    point.workers += liveWorkers(pool).length;
    if (!pool.draining) point.desired += pool.desired;
  }
  return point;
}

const QUEUE_ORDER: Record<DashboardQuery['queueSort'], (a: QueueView, b: QueueView) => number> = {
  name: () => 0,
  backlog: (a, b) => b.ready + b.blocked + b.delayed - (a.ready + a.blocked + a.delayed),
  running: (a, b) => b.running - a.running,
  dead: (a, b) => b.dead - a.dead,
};

/** The client's page of queues: filtered by name, sorted (ties by name, which readCluster already sorts by). */
export function queuePage(queues: readonly QueueView[], query: DashboardQuery): Page<QueueView> {
  const needle = query.queueFilter?.toLowerCase();
  const matching = needle ? queues.filter((queue) => queue.queue.toLowerCase().includes(needle)) : [...queues];
  if (query.queueSort !== 'name') matching.sort(QUEUE_ORDER[query.queueSort]);
  return pageOf(matching, query.queueOffset, query.queueLimit);
}

/** The client's page of pools, in a stable order (by queue, then id) so rows do not jump. */
export function poolPage(pools: readonly PoolSnapshot[], query: DashboardQuery): Page<PoolSnapshot> {
  const focused = pools.filter((pool) => inFocus(query.focus, pool.queue)).sort(byQueueThenId);
  return pageOf(focused, query.poolOffset, query.poolLimit);
}

export function poolRow(pool: PoolSnapshot, lastDecision: DecisionRecord | null): PoolRow {
  const { workers: _listedApart, ...rest } = pool;
  const live = liveWorkers(pool);
  return { ...rest, live: live.length, busy: live.filter((worker) => worker.state === 'busy').length, lastDecision };
}

/** Every worker of the focused pools, pool by pool and by pid: a row keeps its place as its state changes. */
export function workerPage(pools: readonly PoolSnapshot[], query: DashboardQuery): Page<WorkerRow> {
  const rows: WorkerRow[] = [];
  for (const pool of pools.filter((p) => inFocus(query.focus, p.queue)).sort(byQueueThenId)) {
    for (const worker of [...pool.workers].sort((a, b) => a.pid - b.pid)) {
      if (query.workerState === 'busy' && worker.state !== 'busy') continue;
      rows.push({ ...worker, poolId: pool.id, queue: pool.queue, hostname: pool.hostname, poolPid: pool.pid });
    }
  }
  return pageOf(rows, query.workerOffset, query.workerLimit);
}

/** Decisions not sent yet, oldest first (the store lists them newest first). */
export function unseenDecisions(recent: readonly DecisionRecord[], sent: ReadonlySet<string>, since: number, focus: string | undefined, poolQueue: ReadonlyMap<string, string>): DecisionRecord[] {
  return recent
    .filter((decision) => decision.at >= since && !sent.has(decisionKey(decision)))
    .filter((decision) => focus === undefined || poolQueue.get(decision.poolId) === focus)
    .reverse();
}

function pageOf<T>(items: readonly T[], offset: number, limit: number): Page<T> {
  return { total: items.length, offset, limit, items: items.slice(offset, offset + limit) };
}

function byQueueThenId(a: PoolSnapshot, b: PoolSnapshot): number {
  return a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
