import type Database from 'better-sqlite3';
import { dataVersionReader } from './data-version.js';

/** What changed: the broker's tasks, its cancellations, or the store's records. */
export type ChangeTopic = 'tasks' | 'cancellations' | 'store';

/**
 * Tells listeners that the database may have changed. Writes by this
 * connection are announced directly, to the listeners of their topic only;
 * writes by other processes show up as a new PRAGMA data_version (a few
 * microseconds a call), polled only while someone listens, and wake every
 * listener. SQLite has no cross-process notification: this short poll is the
 * embedded broker's stand-in for a push from a server.
 */
export class ChangeFeed {
  private readonly listeners = new Map<ChangeTopic, Set<() => void>>([
    ['tasks', new Set()],
    ['cancellations', new Set()],
    ['store', new Set()],
  ]);
  private readonly scheduled = new Set<ChangeTopic>();
  private timer: NodeJS.Timeout | undefined;
  private lastVersion = -1;
  private closed = false;
  private readonly readVersion: () => number;

  constructor(
    private readonly db: Database.Database,
    private readonly pollMs: number,
  ) {
    this.readVersion = dataVersionReader(db);
  }

  subscribe(topic: ChangeTopic, listener: () => void): () => void {
    this.listeners.get(topic)!.add(listener);
    this.startPolling();
    this.holdProcess();
    return () => {
      this.listeners.get(topic)!.delete(listener);
      if (this.size() === 0) this.stopPolling();
      else this.holdProcess();
    };
  }

  /**
   * Someone waiting for a task's result keeps the process alive, as any
   * awaited promise should; a pool's own subscription does not (the pool has
   * its own timers).
   */
  private holdProcess(): void {
    if (this.listeners.get('store')!.size > 0) this.timer?.ref();
    else this.timer?.unref();
  }

  /** Announces a write made through this connection; coalesced per turn of the event loop. */
  notifyLocal(topic: ChangeTopic): void {
    if (this.scheduled.has(topic) || this.listeners.get(topic)!.size === 0) return;
    this.scheduled.add(topic);
    setImmediate(() => {
      this.scheduled.delete(topic);
      this.emit(topic);
    });
  }

  close(): void {
    this.closed = true;
    this.stopPolling();
    for (const set of this.listeners.values()) set.clear();
  }

  private size(): number {
    let size = 0;
    for (const set of this.listeners.values()) size += set.size;
    return size;
  }

  private startPolling(): void {
    if (this.timer || this.closed) return;
    this.lastVersion = this.readVersion();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    if (this.closed || !this.db.open) return this.stopPolling();
    const version = this.readVersion();
    if (version !== this.lastVersion) {
      this.lastVersion = version;
      for (const topic of this.listeners.keys()) this.emit(topic);
    }
  }

  private emit(topic: ChangeTopic): void {
    for (const listener of [...this.listeners.get(topic)!]) listener();
  }
}
