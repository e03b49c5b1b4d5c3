import type { Redis } from 'ioredis';
import type { TaskRecord } from '../../../core/task-record.js';
import type { Retention, TaskUpdate } from '../../../ports/store.js';
import { execPipeline } from './failures.js';
import type { StoreKeys } from './keys.js';
import { queueCreateTask } from './scripts/create-task.js';
import { pruneTasks } from './scripts/prune-tasks.js';
import { queueReplaceTask } from './scripts/replace-task.js';
import { upsertTask } from './scripts/upsert-task.js';
import { decodeRecord, recordFields, updateFields } from './task-hash.js';

/**
 * Task states and results, one hash per task. Each record's write is one
 * atomic script; the writes of one call share a pipeline (one round trip),
 * but are not one transaction: no reader needs a batch to appear at once.
 * Updates go out as direct calls, which auto-pipelining merges with the
 * updates of other calls in the same turn.
 */
export class TaskRecords {
  constructor(
    private readonly client: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async create(records: readonly TaskRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const record of records) queueCreateTask(pipeline, this.keys, record.id, now, recordFields(record));
    await execPipeline(pipeline);
  }

  async replace(records: readonly TaskRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const record of records) queueReplaceTask(pipeline, this.keys, record.id, now, recordFields(record));
    await execPipeline(pipeline);
  }

  async update(updates: readonly TaskUpdate[], now: number): Promise<void> {
    await Promise.all(updates.map((update) => upsertTask(this.client, this.keys, update.id, now, updateFields(update, now))));
  }

  async get(ids: readonly string[]): Promise<TaskRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of new Set(ids)) pipeline.hgetall(this.keys.task(id));
    const hashes = (await execPipeline(pipeline)) as Record<string, string>[];
    const records: TaskRecord[] = [];
    for (const hash of hashes) {
      const record = decodeRecord(hash);
      if (record) records.push(record);
    }
    return records;
  }

  prune(retention: Retention): Promise<number> {
    return pruneTasks(this.client, this.keys, retention);
  }
}
