import type { Store, TaskUpdate } from '../../ports/store.js';

/**
 * The 'running' state of the tasks a pool starts, written to the store in a
 * batch at each tick rather than one write a start: most tasks finish before
 * anyone could look, and then get one write, their outcome with their start
 * time. The 'running' state shows for any task that runs longer than a tick.
 *
 * A task's outcome must be written after its start, even where the two take
 * different connections (a Settlement's): otherwise the start could land
 * last and hide the outcome. `writing(id)` says what to wait for first.
 */
export class StartRecords {
  /** Starts not yet written. */
  private readonly unwritten = new Map<string, TaskUpdate>();
  /** Starts on their way to the store, by task id. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly store: Store) {}

  started(start: TaskUpdate): void {
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

  /** Writes the starts of the tasks that still run (called every tick). */
  async write(): Promise<void> {
    if (this.unwritten.size === 0) return;
    const batch = [...this.unwritten.values()];
    this.unwritten.clear();
    const written = this.store.updateTasks(batch);
    for (const start of batch) this.inFlight.set(start.id, written);
    try {
      await written;
    } finally {
      for (const start of batch) if (this.inFlight.get(start.id) === written) this.inFlight.delete(start.id);
    }
  }
}
