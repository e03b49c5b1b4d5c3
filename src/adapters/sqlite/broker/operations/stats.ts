import type Database from 'better-sqlite3';
import type { QueueStats } from '../../../../ports/broker.js';

/**
 * Counts per queue. Each count reads one partial index (finished tasks are
 * never scanned): ready from broker_ready and, for delayed tasks already due
 * that no claim has promoted yet, broker_delayed; delayed from broker_delayed;
 * blocked from broker_key_active, running from broker_leases, dead from
 * broker_dead.
 */
export function statsOperation(db: Database.Database): (queues: readonly string[] | undefined, now: number) => QueueStats[] {
  const ready = db.prepare(`SELECT queue, count(*) AS ready FROM broker_tasks WHERE state = 'queued' AND key_blocked = 0 AND delayed = 0 GROUP BY queue`);
  const delayed = db.prepare(`
    SELECT queue, sum(due_at <= ?) AS due, sum(due_at > ?) AS later
    FROM broker_tasks WHERE state = 'queued' AND key_blocked = 0 AND delayed = 1 GROUP BY queue`);
  const blocked = db.prepare(`
    SELECT queue, count(*) AS blocked FROM broker_tasks
    WHERE key IS NOT NULL AND state IN ('queued', 'running') AND state = 'queued' AND key_blocked = 1 GROUP BY queue`);
  const running = db.prepare(`SELECT queue, count(*) AS running FROM broker_tasks WHERE state = 'running' GROUP BY queue`);
  const dead = db.prepare(`SELECT queue, count(*) AS dead FROM broker_tasks WHERE state = 'dead' GROUP BY queue`);
  const totals = db.prepare(`SELECT queue, enqueued_total FROM broker_queue_counters`);

  return (queues, now) => {
    const byQueue = new Map<string, QueueStats>();
    const entry = (queue: string): QueueStats => {
      let stats = byQueue.get(queue);
      if (!stats) byQueue.set(queue, (stats = { queue, ready: 0, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: 0 }));
      return stats;
    };
    for (const row of totals.all() as Array<{ queue: string; enqueued_total: number }>) entry(row.queue).enqueuedTotal = row.enqueued_total;
    for (const row of ready.all() as Array<{ queue: string; ready: number }>) entry(row.queue).ready = row.ready;
    for (const row of delayed.all(now, now) as Array<{ queue: string; due: number; later: number }>) {
      const stats = entry(row.queue);
      stats.ready += row.due;
      stats.delayed = row.later;
    }
    for (const row of blocked.all() as Array<{ queue: string; blocked: number }>) entry(row.queue).blocked = row.blocked;
    for (const row of running.all() as Array<{ queue: string; running: number }>) entry(row.queue).running = row.running;
    for (const row of dead.all() as Array<{ queue: string; dead: number }>) entry(row.queue).dead = row.dead;
    for (const queue of queues ?? []) entry(queue);
    const all = [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
    return queues ? all.filter((stats) => queues.includes(stats.queue)) : all;
  };
}
