import type Database from 'better-sqlite3';
import type { TaskEnvelope } from '../../../../core/envelope.js';
import type { EnqueueResult } from '../../../../ports/broker.js';

/** Inserts new tasks in one transaction; a known id is left alone. */
export function enqueueOperation(db: Database.Database): (tasks: readonly TaskEnvelope[]) => EnqueueResult[] {
  const insert = db.prepare(`
    INSERT INTO broker_tasks (id, queue, type, payload, key, grp, race, state, key_blocked, run_at, due_at, enqueued_at)
    VALUES (@id, @queue, @type, @payload, @key, @grp, @race, 'queued',
      CASE WHEN @key IS NULL THEN 0 ELSE EXISTS (
        SELECT 1 FROM broker_tasks WHERE queue = @queue AND key = @key AND state IN ('queued', 'running')
      ) END,
      @runAt, @runAt, @enqueuedAt)
    ON CONFLICT (id) DO NOTHING`);
  const count = db.prepare(`
    INSERT INTO broker_queue_counters (queue, enqueued_total) VALUES (?, ?)
    ON CONFLICT (queue) DO UPDATE SET enqueued_total = enqueued_total + excluded.enqueued_total`);

  return db.transaction((tasks: readonly TaskEnvelope[]) => {
    const perQueue = new Map<string, number>();
    const results = tasks.map((task): EnqueueResult => {
      const { changes } = insert.run({
        id: task.id,
        queue: task.queue,
        type: task.type,
        payload: task.payload,
        key: task.key ?? null,
        grp: task.group ?? null,
        race: task.race ? 1 : 0,
        runAt: task.runAt ?? task.enqueuedAt,
        enqueuedAt: task.enqueuedAt,
      });
      if (changes > 0) perQueue.set(task.queue, (perQueue.get(task.queue) ?? 0) + 1);
      return { id: task.id, created: changes > 0 };
    });
    for (const [queue, added] of perQueue) count.run(queue, added);
    return results;
  });
}
