import type { Redis } from 'ioredis';
import type { TaskRecord } from '../../../core/task-record.js';
import type { Retention, TaskUpdate } from '../../../ports/store.js';
import { execPipeline } from './failures.js';
import type { StoreKeys } from './keys.js';
import { createTasks } from './scripts/create-tasks.js';
import { pruneTasks } from './scripts/prune-tasks.js';
import { queueReplaceTask } from './scripts/replace-task.js';
import { upsertTasks, type RecordUpsert } from './scripts/upsert-tasks.js';
import { inChunks, ITEMS_PER_CALL } from '../script-batches.js';
import { TurnBatch } from '../../../core/turn-batch.js';
import { decodeRecord, recordFields, updateFields } from './task-hash.js';

/**
 * Task states and results, one hash per task. Each record's write is one
 * atomic script; the writes of one call share a pipeline (one round trip),
 * but are not one transaction: no reader needs a batch to appear at once.
 * Updates are batched by turn of the event loop: the outcomes of the short
 * tasks a pool settles in one turn are one script call.
 */
export class TaskRecords {
  private readonly upserts: TurnBatch<RecordUpsert, unknown>;

  constructor(
    private readonly client: Redis,
    private readonly keys: StoreKeys,
  ) {
    this.upserts = new TurnBatch(async (records) => {
      await upsertTasks(this.client, this.keys, records);
      return records.map(() => undefined);
    }, ITEMS_PER_CALL);
  }

  async create(records: readonly TaskRecord[], now: number): Promise<void> {
    await inChunks(records, async (chunk) => {
      await createTasks(this.client, this.keys, chunk.map((record) => ({ id: record.id, now, fields: recordFields(record) })));
      return [];
    });
  }

  async replace(records: readonly TaskRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const record of records) queueReplaceTask(pipeline, this.keys, record.id, now, recordFields(record));
    await execPipeline(pipeline);
  }

  async update(updates: readonly TaskUpdate[], now: number): Promise<void> {
    await Promise.all(updates.map((update) => this.upserts.add({ id: update.id, now, ...updateFields(update, now) })));
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
