import type { Store, TaskUpdate } from '../../ports/store.js';

/** A task's 'running' update, with the start time that tells when a tick writes it. */
export type Start = TaskUpdate & { startedAt: number };

/**
 * The 'running' state of the tasks a pool starts, written to the store in a
 * batch at each tick rather than one write a start: most tasks finish before
 * anyone could look, and then get one write, their outcome with their start
 * time. A tick writes the starts of the tasks that have run for at least
 * `minRunMs` (half a tick, from the pool): a task shows as running within a
 * tick and a half of its start. Written at the first tick after their start,
 * tasks of 20 ms got a 'running' record at every tick (those then running),
 * overwritten by their outcomes a few milliseconds later: a needless write,
 * and often a commit of its own, ten times a second.
 *
 * A task's outcome must be written after its start, even where the two take
 * different connections (a Settlement's): otherwise the start could land
 * last and hide the outcome. `writing(id)` says what to wait for first.
 */
export class StartRecords {
  /** Starts not yet written. */
  private readonly unwritten = new Map<string, Start>();
  /** Starts on their way to the store, by task id. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly store: Store) {}

  started(start: Start): void {
    this.unwritten.set(start.id, start);
  }

  /** The task ended, or went back unstarted: a start not written yet never will be. */
  forget(id: string): void {
    this.unwritten.delete(id);
  }

  /** The write of this task's start, while one is on its way (only for a task that ran past a tick). */
  writing(id: string): Promise<void> | undefined {
    return this.inFlight.get(id);
  }

  /** Writes the starts of the tasks that still run and started `minRunMs` or more before `now` (called every tick). */
  async write(now: number, minRunMs: number): Promise<void> {
    const batch: Start[] = [];
    for (const start of this.unwritten.values()) if (start.startedAt <= now - minRunMs) batch.push(start);
    if (batch.length === 0) return;
    for (const start of batch) this.unwritten.delete(start.id);
    const written = this.store.updateTasks(batch);
    for (const start of batch) this.inFlight.set(start.id, written);
    try {
      await written;
    } finally {
      for (const start of batch) if (this.inFlight.get(start.id) === written) this.inFlight.delete(start.id);
    }
  }
}
