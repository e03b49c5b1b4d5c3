import type Database from 'better-sqlite3';

/**
 * Tells listeners that the database may have changed. Writes by this
 * connection are announced directly; writes by other processes show up as a
 * new PRAGMA data_version, which is polled (a few microseconds a call) only
 * while someone listens. SQLite has no cross-process notification, so this
 * short poll is the embedded broker's stand-in for a push from a server.
 */
export class ChangeFeed {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastVersion = -1;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly pollMs: number,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.startPolling();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  /** Announces a write made through this connection; coalesced per turn of the event loop. */
  notifyLocal(): void {
    if (this.scheduled || this.listeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.emit();
    });
  }

  close(): void {
    this.closed = true;
    this.stopPolling();
    this.listeners.clear();
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
      this.emit();
    }
  }

  private readVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
