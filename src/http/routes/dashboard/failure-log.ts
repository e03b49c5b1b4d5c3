import { describeDeadReason } from '../../../core/task-record.js';
import type { Store } from '../../../ports/store.js';
import type { TaskFinishedEvent } from '../../../runtime/pool/pool-events.js';
import type { PoolManager } from '../../../runtime/pool/pool-manager.js';
import type { FailureRow } from './frame.js';

const KEPT = 50;
const FAILED_STATES = new Set(['retrying', 'dead', 'queued']);

/**
 * The recent failed attempts of the pool this server runs beside. The store
 * keeps no log of failures, only each task's last state, so the pool's own
 * events are the record; `gaffer dashboard` without a pool shows dead letters
 * and each pool's outcome counts instead.
 */
export class FailureLog {
  private readonly rows: FailureRow[] = [];
  /** Ids whose error message is still to be read from the store. */
  private readonly unread = new Set<FailureRow>();
  private readonly stopListening: () => void;

  constructor(
    pool: PoolManager | undefined,
    private readonly store: Store,
  ) {
    if (!pool) {
      this.stopListening = () => {};
      return;
    }
    const listener = (event: TaskFinishedEvent) => this.onFinished(pool.settings.queue, event);
    pool.on('task-finished', listener);
    this.stopListening = () => pool.off('task-finished', listener);
  }

  /** Newest first, with the error messages read from the task records (once per failure). */
  async recent(): Promise<FailureRow[]> {
    if (this.unread.size > 0) {
      const pending = [...this.unread];
      this.unread.clear();
      const records = new Map((await this.store.getTasks(pending.map((row) => row.id))).map((record) => [record.id, record]));
      for (const row of pending) {
        const error = records.get(row.id)?.error;
        if (error && !row.message) row.message = error.message;
      }
    }
    return this.rows.map((row) => ({ ...row }));
  }

  close(): void {
    this.stopListening();
    this.unread.clear();
  }

  private onFinished(queue: string, event: TaskFinishedEvent): void {
    // A task that is queued again here was running when its worker died.
    if (!FAILED_STATES.has(event.state)) return;
    const row: FailureRow = {
      id: event.id,
      queue,
      type: event.type,
      state: event.state === 'queued' ? 'crashed' : event.state,
      at: Date.now(),
      pid: event.pid,
      message: event.deadReason ? describeDeadReason(event.deadReason) : '',
    };
    this.rows.unshift(row);
    if (!row.message) this.unread.add(row);
    for (const dropped of this.rows.splice(KEPT)) this.unread.delete(dropped);
  }
}
