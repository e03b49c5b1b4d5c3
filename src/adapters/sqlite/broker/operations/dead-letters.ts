import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterFilter, DeadLetterSelector } from '../../../../ports/broker.js';
import type { TaskEnvelope } from '../../../../core/envelope.js';
import { toDeadLetter, toEnvelope, type BrokerTaskRow } from '../task-row.js';
import { insertTaskOperation } from './insert-task.js';

function selectorClause(selector: DeadLetterSelector): { where: string; params: unknown[] } {
  if ('ids' in selector) return { where: `id IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(selector.ids)] };
  if ('queue' in selector) return { where: 'queue = ?', params: [selector.queue] };
  return { where: '1 = 1', params: [] };
}

export function listDeadOperation(db: Database.Database): (filter: DeadLetterFilter) => DeadLetter[] {
  const all = db.prepare(`SELECT * FROM broker_tasks WHERE state = 'dead' ORDER BY finished_at DESC, seq DESC LIMIT ? OFFSET ?`);
  const ofQueue = db.prepare(`SELECT * FROM broker_tasks WHERE state = 'dead' AND queue = ? ORDER BY finished_at DESC, seq DESC LIMIT ? OFFSET ?`);
  return (filter) => {
    const limit = filter.limit ?? 100;
    const offset = filter.offset ?? 0;
    const rows = (filter.queue === undefined ? all.all(limit, offset) : ofQueue.all(filter.queue, limit, offset)) as BrokerTaskRow[];
    return rows.map(toDeadLetter);
  };
}

export function getDeadOperation(db: Database.Database): (id: string) => DeadLetter | undefined {
  const get = db.prepare(`SELECT * FROM broker_tasks WHERE id = ? AND state = 'dead'`);
  return (id) => {
    const row = get.get(id) as BrokerTaskRow | undefined;
    return row ? toDeadLetter(row) : undefined;
  };
}

/**
 * Re-enqueues dead letters at the back of their queue (a new seq) with fresh
 * counters, as if a producer sent them again under the same id.
 */
export function retryDeadOperation(db: Database.Database): (selector: DeadLetterSelector, now: number) => TaskEnvelope[] {
  const remove = db.prepare(`DELETE FROM broker_tasks WHERE seq = ?`);
  const insert = insertTaskOperation(db);
  return db.transaction((selector: DeadLetterSelector, now: number) => {
    const { where, params } = selectorClause(selector);
    const rows = db.prepare(`SELECT * FROM broker_tasks WHERE state = 'dead' AND ${where} ORDER BY seq`).all(...params) as BrokerTaskRow[];
    return rows.map((row) => {
      const { runAt: _old, ...envelope } = toEnvelope(row);
      const fresh: TaskEnvelope = { ...envelope, enqueuedAt: now };
      remove.run(row.seq);
      insert(fresh);
      return fresh;
    });
  });
}

export function purgeDeadOperation(db: Database.Database): (selector: DeadLetterSelector) => string[] {
  return db.transaction((selector: DeadLetterSelector) => {
    const { where, params } = selectorClause(selector);
    return db.prepare(`DELETE FROM broker_tasks WHERE state = 'dead' AND ${where} RETURNING id`).pluck().all(...params) as string[];
  });
}
