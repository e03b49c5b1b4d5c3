import type { TaskRecord } from '../../../core/task-record.js';
import type { ChangeFeed } from '../change-feed.js';
import type { TaskRecordOperations } from './task-records.js';

interface Watch {
  pending: Set<string>;
  listener: (record: TaskRecord) => void;
}

/** How many new finals one look reads at a time. */
const LOOK_BATCH = 5000;

/**
 * The waiters of watchFinal on one connection. They share one subscription
 * to the change feed, and at each change read only the ids that became final
 * since the last look (the store_finals log), so that a client waiting for
 * 10,000 results does not look up 10,000 records at every commit.
 */
export class FinalWaiters {
  private readonly byId = new Map<string, Set<Watch>>();
  private lastSeq = 0;
  private unsubscribe: (() => void) | undefined;
  /** Watches made in this turn, whose records may be final already. */
  private readonly firstLooks: Watch[] = [];

  constructor(
    private readonly tasks: TaskRecordOperations,
    private readonly changes: ChangeFeed,
    private readonly isClosed: () => boolean,
  ) {}

  watch(ids: readonly string[], listener: (record: TaskRecord) => void): () => void {
    const watch: Watch = { pending: new Set(ids), listener };
    if (!this.unsubscribe) {
      // Finals before this point are found by each watch's own first look below.
      this.lastSeq = this.tasks.lastFinalSeq();
      this.unsubscribe = this.changes.subscribe('store', () => this.look());
    }
    for (const id of watch.pending) {
      let watches = this.byId.get(id);
      if (!watches) this.byId.set(id, (watches = new Set()));
      watches.add(watch);
    }
    // Records already final: looked up after the watch is in place, so that none can fall in between, and in one
    // query for all the watches of this turn (a client awaiting thousands of handles starts them in one turn).
    this.firstLooks.push(watch);
    if (this.firstLooks.length === 1) queueMicrotask(() => this.firstLook());
    return () => this.forget(watch);
  }

  private firstLook(): void {
    const watches = this.firstLooks.splice(0);
    if (this.isClosed()) return;
    const ids = new Set<string>();
    for (const watch of watches) for (const id of watch.pending) ids.add(id);
    if (ids.size > 0) this.deliver(this.tasks.getFinal([...ids]));
  }

  private look(): void {
    if (this.isClosed()) return;
    for (;;) {
      const finals = this.tasks.finalsSince(this.lastSeq, LOOK_BATCH);
      if (finals.length === 0) return;
      this.lastSeq = finals.at(-1)!.seq;
      const watched = [...new Set(finals.map((final) => final.id).filter((id) => this.byId.has(id)))];
      if (watched.length > 0) this.deliver(this.tasks.getFinal(watched));
      if (finals.length < LOOK_BATCH) return;
    }
  }

  /** Calls each watch of each record once, and forgets the watches that have nothing left to wait for. */
  private deliver(records: readonly TaskRecord[]): void {
    for (const record of records) {
      const watches = this.byId.get(record.id);
      if (!watches) continue;
      // Every watch of the id gets it now; one made again from a listener finds it in its first look.
      this.byId.delete(record.id);
      for (const watch of watches) {
        if (!watch.pending.delete(record.id)) continue;
        if (watch.pending.size === 0) this.forget(watch);
        try {
          watch.listener(record);
        } catch (error) {
          // One failing listener must not keep the record from the others; the error still surfaces.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    }
  }

  private forget(watch: Watch): void {
    for (const id of watch.pending) {
      const watches = this.byId.get(id);
      watches?.delete(watch);
      if (watches?.size === 0) this.byId.delete(id);
    }
    watch.pending.clear();
    if (this.byId.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }
}
