import type Database from 'better-sqlite3';
import type { QueueStats } from '../../../../ports/broker.js';

/** Counts per queue, over unfinished and dead tasks only (an index holds exactly those). */
export function statsOperation(db: Database.Database): (queues: readonly string[] | undefined, now: number) => QueueStats[] {
  const counts = db.prepare(`
    SELECT queue,
      sum(state = 'queued' AND run_at <= @now AND key_blocked = 0) AS ready,
      sum(state = 'queued' AND run_at <= @now AND key_blocked = 1) AS blocked,
      sum(state = 'queued' AND run_at > @now) AS delayed,
      sum(state = 'running') AS running,
      sum(state = 'dead') AS dead
    FROM broker_tasks WHERE state IN ('queued', 'running', 'dead')
    GROUP BY queue`);
  const totals = db.prepare(`SELECT queue, enqueued_total FROM broker_queue_counters`);
  return (queues, now) => {
    const byQueue = new Map<string, QueueStats>();
    const empty = (queue: string): QueueStats => ({ queue, ready: 0, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: 0 });
    for (const row of totals.all() as Array<{ queue: string; enqueued_total: number }>) {
      byQueue.set(row.queue, { ...empty(row.queue), enqueuedTotal: row.enqueued_total });
    }
    for (const row of counts.all({ now }) as Array<Omit<QueueStats, 'enqueuedTotal'>>) {
      byQueue.set(row.queue, { ...row, enqueuedTotal: byQueue.get(row.queue)?.enqueuedTotal ?? 0 });
    }
    for (const queue of queues ?? []) if (!byQueue.has(queue)) byQueue.set(queue, empty(queue));
    const all = [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
    return queues ? all.filter((stats) => queues.includes(stats.queue)) : all;
  };
}
