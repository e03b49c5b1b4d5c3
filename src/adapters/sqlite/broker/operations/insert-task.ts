import type Database from 'better-sqlite3';
import type { TaskEnvelope } from '../../../../core/envelope.js';

/**
 * Inserts a queued task (a known id is left alone: `changes` is 0). It is
 * blocked behind its key if an older task of the key is still unfinished,
 * and delayed if it asks to run later.
 */
export function insertTaskOperation(db: Database.Database): (envelope: TaskEnvelope) => number {
  const insert = db.prepare(`
    INSERT INTO broker_tasks (id, queue, type, payload, key, grp, race, state, key_blocked, run_at, due_at, enqueued_at, delayed)
    VALUES (@id, @queue, @type, @payload, @key, @grp, @race, 'queued',
      CASE WHEN @key IS NULL THEN 0 ELSE EXISTS (
        SELECT 1 FROM broker_tasks WHERE queue = @queue AND key = @key AND state IN ('queued', 'running')
      ) END,
      @runAt, @runAt, @enqueuedAt, @runAt > @enqueuedAt)
    ON CONFLICT (id) DO NOTHING`);
  return (envelope) =>
    insert.run({
      id: envelope.id,
      queue: envelope.queue,
      type: envelope.type,
      payload: envelope.payload,
      key: envelope.key ?? null,
      grp: envelope.group ?? null,
      race: envelope.race ? 1 : 0,
      runAt: envelope.runAt ?? envelope.enqueuedAt,
      enqueuedAt: envelope.enqueuedAt,
    }).changes;
}
