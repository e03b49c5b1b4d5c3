/** A task of the durable fork-pool anchor: an id and the burnCpu size its child runs. */
export interface JournalTask {
  id: string;
  iterations: number;
}

/**
 * The least a durable task queue does for each task, for the durable
 * fork-pool anchor (fork-pool-makespan.ts): tasks are written before they
 * run, claimed durably before a child gets one, and recorded as done
 * durably before the next is claimed for that child. Nothing else: no
 * validation, no retries, no leases that expire, no keys, no events.
 */
export interface TaskJournal {
  /** What the figures call it. */
  readonly name: string;
  /** Writes `count` tasks of `iterations`; resolves once they are durable. */
  enqueue(count: number, iterations: number): Promise<void>;
  /**
   * Records `doneId` as done (when given), then claims the next task when
   * `claimNext`, as one durable step where the store allows. The caller
   * never claims more tasks than it enqueued.
   */
  advance(doneId: string | undefined, claimNext: boolean): Promise<JournalTask | undefined>;
}
