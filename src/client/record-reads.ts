import type { TaskRecord } from '../core/task-record.js';
import { TurnBatch } from '../core/turn-batch.js';
import type { Store } from '../ports/store.js';

/** Ids in one read: a SQLite query's JSON argument, or one Redis pipeline. */
const IDS_PER_READ = 1000;

/**
 * The reads of single task records that a client makes, gathered per turn of
 * the event loop into one getTasks call. A program that awaits every handle
 * of an enqueueMany (each first checks that its task exists) asked the store
 * once a handle: a query each on SQLite, a round trip each on Redis.
 */
export class RecordReads {
  private readonly batch: TurnBatch<string, TaskRecord | undefined>;

  constructor(store: Store) {
    this.batch = new TurnBatch(async (ids) => {
      const found = new Map((await store.getTasks(ids)).map((record) => [record.id, record]));
      return ids.map((id) => found.get(id));
    }, IDS_PER_READ);
  }

  /** The task's record, or undefined if the store has none. */
  get(id: string): Promise<TaskRecord | undefined> {
    return this.batch.add(id);
  }
}

const readsByStore = new WeakMap<Store, RecordReads>();

/** The RecordReads of a store, shared by every handle and wait on it in this process. */
export function recordReadsOf(store: Store): RecordReads {
  let reads = readsByStore.get(store);
  if (!reads) readsByStore.set(store, (reads = new RecordReads(store)));
  return reads;
}
