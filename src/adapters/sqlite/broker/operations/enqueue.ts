import type Database from 'better-sqlite3';
import type { TaskEnvelope } from '../../../../core/envelope.js';
import type { EnqueueResult } from '../../../../ports/broker.js';
import { insertTaskOperation } from './insert-task.js';

/** Inserts new tasks in one transaction; a known id is left alone. */
export function enqueueOperation(db: Database.Database): (tasks: readonly TaskEnvelope[]) => EnqueueResult[] {
  const insert = insertTaskOperation(db);
  const count = db.prepare(`
    INSERT INTO broker_queue_counters (queue, enqueued_total) VALUES (?, ?)
    ON CONFLICT (queue) DO UPDATE SET enqueued_total = enqueued_total + excluded.enqueued_total`);

  return db.transaction((tasks: readonly TaskEnvelope[]) => {
    const perQueue = new Map<string, number>();
    const results = tasks.map((task): EnqueueResult => {
      const created = insert(task) > 0;
      if (created) perQueue.set(task.queue, (perQueue.get(task.queue) ?? 0) + 1);
      return { id: task.id, created };
    });
    for (const [queue, added] of perQueue) count.run(queue, added);
    return results;
  });
}
