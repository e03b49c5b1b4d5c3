import type { TaskRecord } from '../../../core/task-record.js';

export interface StoreTaskRow {
  id: string;
  queue: string;
  type: string;
  key: string | null;
  grp: string | null;
  state: TaskRecord['state'];
  attempts: number;
  deaths: number;
  enqueued_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  dead_reason: string | null;
  pool_id: string | null;
  worker_pid: number | null;
}

export function toTaskRecord(row: StoreTaskRow): TaskRecord {
  const record: TaskRecord = {
    id: row.id,
    queue: row.queue,
    type: row.type,
    state: row.state,
    attempts: row.attempts,
    deaths: row.deaths,
    enqueuedAt: row.enqueued_at,
  };
  if (row.key !== null) record.key = row.key;
  if (row.grp !== null) record.group = row.grp;
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  if (row.result !== null) record.result = JSON.parse(row.result);
  if (row.error !== null) record.error = JSON.parse(row.error);
  if (row.dead_reason !== null) record.deadReason = JSON.parse(row.dead_reason);
  if (row.pool_id !== null) record.poolId = row.pool_id;
  if (row.worker_pid !== null) record.workerPid = row.worker_pid;
  return record;
}

/** Named parameters for an insert or an upsert; undefined fields become NULL, which the upsert keeps as they were. */
export function toParams(record: Partial<TaskRecord> & Pick<TaskRecord, 'id' | 'queue' | 'type' | 'state'>, now: number) {
  return {
    id: record.id,
    queue: record.queue,
    type: record.type,
    key: record.key ?? null,
    grp: record.group ?? null,
    state: record.state,
    attempts: record.attempts ?? null,
    deaths: record.deaths ?? null,
    enqueuedAt: record.enqueuedAt ?? now,
    startedAt: record.startedAt ?? null,
    finishedAt: record.finishedAt ?? null,
    result: jsonOrNull(record.result),
    error: jsonOrNull(record.error),
    deadReason: jsonOrNull(record.deadReason),
    poolId: record.poolId ?? null,
    workerPid: record.workerPid ?? null,
  };
}

/** A JSON column's value: undefined (not set) is NULL; anything else, null included, is its JSON text. */
export function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
