import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { dataVersionReader } from './data-version.js';

/** What changed: the broker's tasks, its cancellations, or the store's records. */
export type ChangeTopic = 'tasks' | 'cancellations' | 'store';

/** How often data_version is read besides, once the file system has shown that it reports changes. */
const WATCHED_POLL_MS = 1000;

/**
 * BUSY_WRITES writes of this connection within BUSY_WINDOW_MS make it busy:
 * each commit of its own would be reported by the file system, a read of the
 * report and of data_version for nothing, so it looks on its own writes
 * instead, until a window falls short of QUIET_WRITES or it has not written
 * for QUIET_AFTER_MS. A pool writes about twice a task (its outcome, and the
 * claim of the next): one of 20 ms tasks on two workers is busy, with room to
 * spare; one of 200 ms tasks is quiet, where a busy poll's timer woke it 50
 * times a second, and so is a pool's heartbeat (a few writes a second). At
 * 20 busy writes, that pool of 20 ms tasks sat on the line: it went busy and
 * quiet again every second or so, and while quiet it read the file system's
 * report of each of its own commits, then data_version (a read transaction,
 * with its lock calls) for nothing. The gap between the two thresholds keeps
 * a pool near one of them from flapping.
 */
const BUSY_WRITES = 10;
const QUIET_WRITES = 5;
const BUSY_WINDOW_MS = 100;
const QUIET_AFTER_MS = 250;

/**
 * How often a busy connection's timer looks, whatever `pollMs` is: its looks
 * ride on its own writes, and the timer only covers writes that stopped.
 * Pushing a timer back does not spare the wake-up: Node keeps the event
 * loop's timer at the earliest expiry it was given, so a pushed-back timer
 * still wakes the process when it was first due, to find nothing due and be
 * set again. A pool of 20 ms tasks on two workers whose 20 ms timer was
 * pushed back on its writes was woken 1.68 to 1.92 times a task (nine runs),
 * about 60 timer wake-ups a second, and 1.42 to 1.57 times with this one.
 * Another process's commit is then seen within BUSY_TIMER_MS once the
 * connection's writes stop, instead of within 2 × `pollMs`; a pool stays
 * busy for QUIET_AFTER_MS after its last write at most.
 */
const BUSY_TIMER_MS = BUSY_WINDOW_MS;

/**
 * Tells listeners that the database may have changed. Writes by this
 * connection are announced directly, to the listeners of their topic only;
 * writes by other processes show up as a new PRAGMA data_version (a few
 * microseconds a read), and wake every listener. SQLite has no cross-process
 * notification. While this connection writes little (a pool waiting for
 * work, a client waiting for a result), the feed reads data_version when the
 * file system reports a change in the database's directory (every commit
 * writes the WAL file), and polls it besides: every `pollMs` until a reported
 * change has shown that the file system reports them (some mounts do not),
 * then every second. While this connection writes often (a busy pool), the
 * reports of its own commits would cost it a read each for nothing: it looks
 * at data_version in the turns of its own writes instead, at most every
 * `pollMs`, and a slow timer (BUSY_TIMER_MS) looks besides, for when its
 * writes stop. A timer on a `pollMs` beat would fire between the pool's own
 * turns, a wake-up of its own each time.
 */
export class ChangeFeed {
  private readonly listeners = new Map<ChangeTopic, Set<() => void>>([
    ['tasks', new Set()],
    ['cancellations', new Set()],
    ['store', new Set()],
  ]);
  private readonly scheduled = new Set<ChangeTopic>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  /** Whether the file system reported a change in the database's directory since the feed started watching. */
  private watchReports = false;
  private checkScheduled = false;
  private lastLocalWriteAt = Number.NEGATIVE_INFINITY;
  private windowStartedAt = Number.NEGATIVE_INFINITY;
  private writesInWindow = 0;
  private busy = false;
  /** While busy: when data_version was last read. */
  private lastLookAt = Number.NEGATIVE_INFINITY;
  private lastVersion = -1;
  private closed = false;
  private readonly readVersion: () => number;

  constructor(
    private readonly db: Database.Database,
    private readonly pollMs: number,
    /** The database file, whose directory is watched; without one, the feed only polls. */
    private readonly file?: string,
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

  /** This connection is writing (see BUSY_WRITES). */
  localWrite(): void {
    const now = performance.now();
    this.lastLocalWriteAt = now;
    if (now - this.windowStartedAt > BUSY_WINDOW_MS) {
      if (this.busy && this.writesInWindow < QUIET_WRITES) this.becomeQuiet();
      this.windowStartedAt = now;
      this.writesInWindow = 0;
    }
    this.writesInWindow++;
    if (this.writesInWindow >= BUSY_WRITES && !this.busy && this.timer) {
      this.busy = true;
      this.unwatch();
      this.schedulePoll(Math.max(this.pollMs, BUSY_TIMER_MS));
    }
    // A busy connection's look rides on its own write (at the end of the turn, outside the write's transaction) once
    // `pollMs` have passed since the last: another process's commit is seen within twice `pollMs` while it writes, and
    // within BUSY_TIMER_MS once it stopped.
    if (this.busy && now - this.lastLookAt >= this.pollMs) this.checkSoon();
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
    this.busy = false;
    this.watch();
    this.schedulePoll(this.pollMs);
  }

  private schedulePoll(everyMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.poll(), everyMs);
    this.holdProcess();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unwatch();
  }

  private becomeQuiet(): void {
    this.busy = false;
    this.watch();
    // Until the watch has reported, as when the feed started.
    if (this.timer) this.schedulePoll(this.pollMs);
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.watchReports = false;
  }

  /** Reads data_version whenever the database's directory reports a change; a watch that cannot start or fails leaves the short poll. */
  private watch(): void {
    if (!this.file) return;
    const base = path.basename(this.file);
    try {
      const watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
        if (name !== null && !name.startsWith(base)) return;
        if (!this.watchReports && this.timer) {
          this.watchReports = true;
          this.schedulePoll(WATCHED_POLL_MS);
        }
        this.checkSoon();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.watcher !== watcher) return;
        this.unwatch();
        if (this.timer) this.schedulePoll(this.pollMs);
      });
      this.watcher = watcher;
    } catch {
      this.watcher = undefined;
    }
  }

  /** One read of data_version for all the reports of a turn (a commit writes the WAL several times), or for a busy connection's writes. */
  private checkSoon(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      if (this.timer) this.poll();
    });
  }

  private poll(): void {
    if (this.closed || !this.db.open) return this.stopPolling();
    if (this.busy && performance.now() - this.lastLocalWriteAt > QUIET_AFTER_MS) this.becomeQuiet();
    this.lastLookAt = performance.now();
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
