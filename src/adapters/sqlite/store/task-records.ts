import type Database from 'better-sqlite3';
import { isFinalState, type TaskRecord } from '../../../core/task-record.js';
import type { Retention, TaskUpdate } from '../../../ports/store.js';
import { jsonOrNull, toParams, toTaskRecord, type StoreTaskRow } from './task-rows.js';

const COLUMNS = `id, queue, type, key, grp, state, attempts, deaths, enqueued_at, started_at, finished_at, result, error, dead_reason, pool_id, worker_pid`;
const VALUES = `@id, @queue, @type, @key, @grp, @state, coalesce(@attempts, 0), coalesce(@deaths, 0), @enqueuedAt, @startedAt, @finishedAt, @result, @error, @deadReason, @poolId, @workerPid`;

/** The columns an update sets when it carries them (coalesce keeps the rest), with their parameters, in this order. */
const UPDATED = [
  ['attempts', 'attempts'],
  ['deaths', 'deaths'],
  ['started_at', 'startedAt'],
  ['finished_at', 'finishedAt'],
  ['result', 'result'],
  ['error', 'error'],
  ['dead_reason', 'deadReason'],
  ['pool_id', 'poolId'],
  ['worker_pid', 'workerPid'],
] as const;
const setUpdated = (parameter: (name: string) => string) => UPDATED.map(([column, name]) => `${column} = coalesce(${parameter(name)}, ${column})`).join(',\n      ');

export interface TaskRecordOperations {
  insert(records: readonly TaskRecord[], now: number): void;
  replace(records: readonly TaskRecord[], now: number): void;
  /** Returns whether any update made a task final, so waiters can be woken. */
  update(updates: readonly TaskUpdate[], now: number): boolean;
  get(ids: readonly string[]): TaskRecord[];
  getFinal(ids: readonly string[]): TaskRecord[];
  /** The ids that became final after `seq` (up to `limit`, in order), and their place in the log. */
  finalsSince(seq: number, limit: number): Array<{ seq: number; id: string }>;
  /** The place of the last final in the log (0 for none). */
  lastFinalSeq(): number;
  prune(retention: Retention): number;
}

/**
 * How many entries of the log of finals a prune keeps: a waiting client reads
 * the log at every change, so it is never more than a few commits behind.
 */
const FINALS_KEPT = 100_000;

/** Task states and results: inserts, partial upserts, reads and retention. */
export function taskRecordOperations(db: Database.Database): TaskRecordOperations {
  const insert = db.prepare(`INSERT INTO store_tasks (${COLUMNS}) VALUES (${VALUES}) ON CONFLICT (id) DO NOTHING`);
  const replace = db.prepare(`INSERT OR REPLACE INTO store_tasks (${COLUMNS}) VALUES (${VALUES})`);
  const upsert = db.prepare(`
    INSERT INTO store_tasks (${COLUMNS}) VALUES (${VALUES})
    ON CONFLICT (id) DO UPDATE SET
      state = excluded.state,
      ${setUpdated((name) => `@${name}`)}`);
  // The record nearly always exists (a client writes it at enqueue): an UPDATE by key, with positional parameters,
  // costs SQLite less than the upsert's INSERT attempt and named ones; the upsert runs only when it changed nothing.
  const updateExisting = db.prepare(`
    UPDATE store_tasks SET
      state = ?,
      ${setUpdated(() => '?')}
    WHERE id = ?`);
  const select = db.prepare(`SELECT * FROM store_tasks WHERE id IN (SELECT value FROM json_each(?))`);
  const selectFinal = db.prepare(`
    SELECT * FROM store_tasks WHERE id IN (SELECT value FROM json_each(?))
    AND state IN ('succeeded', 'dead', 'cancelled')`);
  const logFinal = db.prepare(`INSERT INTO store_finals (id) VALUES (?)`);
  const finalsSince = db.prepare(`SELECT seq, id FROM store_finals WHERE seq > ? ORDER BY seq LIMIT ?`);
  const lastFinalSeq = db.prepare(`SELECT coalesce(max(seq), 0) FROM store_finals`).pluck();
  // The newest row stays, so that seq never starts over.
  const pruneFinals = db.prepare(`DELETE FROM store_finals WHERE seq <= (SELECT max(seq) FROM store_finals) - ?`);
  const pruneByAge = db.prepare(`DELETE FROM store_tasks WHERE finished_at IS NOT NULL AND finished_at < ?`);
  const countFinished = db.prepare(`SELECT count(*) FROM store_tasks WHERE finished_at IS NOT NULL`).pluck();
  const pruneOldest = db.prepare(`
    DELETE FROM store_tasks WHERE id IN (
      SELECT id FROM store_tasks WHERE finished_at IS NOT NULL ORDER BY finished_at LIMIT ?
    )`);

  // One update is one statement, atomic by itself; more need a savepoint.
  const updateOne = (update: TaskUpdate, now: number): boolean => {
    // Spelled out, in UPDATED's order: this runs for every task that ends, and an array built from the list costs more.
    const changed = updateExisting.run(
      update.state,
      update.attempts ?? null,
      update.deaths ?? null,
      update.startedAt ?? null,
      update.finishedAt ?? null,
      jsonOrNull(update.result),
      jsonOrNull(update.error),
      jsonOrNull(update.deadReason),
      update.poolId ?? null,
      update.workerPid ?? null,
      update.id,
    ).changes;
    if (changed === 0) upsert.run(toParams(update, now));
    const final = isFinalState(update.state);
    if (final) logFinal.run(update.id);
    return final;
  };
  const updateMany = db.transaction((updates: readonly TaskUpdate[], now: number) =>
    updates.map((update) => updateOne(update, now)).some(Boolean),
  );

  return {
    insert: db.transaction((records: readonly TaskRecord[], now: number) => {
      for (const record of records) if (insert.run(toParams(record, now)).changes > 0 && isFinalState(record.state)) logFinal.run(record.id);
    }),
    replace: db.transaction((records: readonly TaskRecord[], now: number) => {
      for (const record of records) {
        replace.run(toParams(record, now));
        if (isFinalState(record.state)) logFinal.run(record.id);
      }
    }),
    update: (updates: readonly TaskUpdate[], now: number) => (updates.length === 1 ? updateOne(updates[0]!, now) : updateMany(updates, now)),
    get: (ids: readonly string[]): TaskRecord[] => (select.all(JSON.stringify(ids)) as StoreTaskRow[]).map(toTaskRecord),
    getFinal: (ids: readonly string[]): TaskRecord[] => (selectFinal.all(JSON.stringify(ids)) as StoreTaskRow[]).map(toTaskRecord),
    finalsSince: (seq, limit) => finalsSince.all(seq, limit) as Array<{ seq: number; id: string }>,
    lastFinalSeq: () => lastFinalSeq.get() as number,
    prune: db.transaction((retention: Retention) => {
      let removed = pruneByAge.run(retention.now - retention.maxAgeMs).changes;
      const excess = (countFinished.get() as number) - retention.maxRecords;
      if (excess > 0) removed += pruneOldest.run(excess).changes;
      pruneFinals.run(FINALS_KEPT);
      return removed;
    }),
  };
}
