import type Database from 'better-sqlite3';
import { dataVersionReader } from './data-version.js';
import { storageError } from './storage-errors.js';
import { WalCheckpoint } from './wal-checkpoint.js';
import { WriteTransaction } from './write-lock.js';

/**
 * The least time between two commits while commits come in stride: a pool
 * that finishes a task every millisecond or so commits the turns of 3 ms
 * together (their WAL pages overlap), where a pool of longer tasks, whose
 * turns are further apart, still commits at the end of each turn.
 * Alternating runs of 1,000 × 2 ms (15 each): makespan efficiency 0.809
 * without the gap, 0.821 with it (medians), the manager's CPU 249 µs a task
 * then 228 µs; 200 × 20 ms did not move beyond its noise. A gap of 5 ms
 * saved more with the default lookahead of 15 ms (a commit for every 3.6
 * tasks of 2 ms instead of every 2.1; a mean efficiency of 0.857 against 0.836
 * over 12 paired runs), but a top-up claim resolves only at the commit, and a
 * pool run with `--lookahead 5` then left its workers without work: 0.60
 * against 0.82 (4 paired runs each). The gap must stay well under the
 * lookahead a user may choose.
 */
const MIN_COMMIT_GAP_MS = 3;

/**
 * Commits are in stride when the last two came within this many gaps of each
 * other. A pool of 20 ms tasks on two workers sees its workers finish within
 * the gap of each other now and then: waiting out the gap there cost a timer
 * wake-up (about one in ten of its wake-ups) to save one commit of a few pages.
 */
const IN_STRIDE_GAPS = 2;

/** How long after another process's commit the pool keeps pausing between its own transactions. */
const SHARED_FOR_MS = 1000;

type Waiter = { resolve(): void; reject(error: unknown): void };

/** The group commits of this process, by database file (see releaseLocalHolders). */
const byFile = new Map<string, Set<GroupCommit>>();

/**
 * Group commit for one connection, for a pool manager's own process (whose
 * event loop never runs user code). Ungrouped, the default for everyone
 * else, each write is its own transaction.
 *
 * Grouped, writes run at once inside a transaction that commits at the end of
 * the turn of the event loop (setImmediate), or, while commits come in stride
 * (IN_STRIDE_GAPS), once MIN_COMMIT_GAP_MS have passed since the last commit,
 * so a busy pool pays for one commit (its WAL pages and syscalls) per turn or
 * per few milliseconds instead of one per write: at full speed a turn handles
 * the outcomes of many tasks. It used to stay open for a 2 ms window instead.
 * That took a wake-up of its own for each commit of a pool with longer tasks
 * (2.5 wake-ups a task at 20 ms, 1.5 now), and an idle node process's wake-up
 * costs 150-300 µs of CPU on a small virtual machine. Over eight paired quick
 * runs of the benchmark, makespan efficiency went from 0.922 to 0.934 on
 * average for 200 × 20 ms (better in 7 pairs of 8) and from 0.793 to 0.810 for
 * 1,000 × 2 ms (5 of 8), where a commit per task now costs what the window's
 * fewer commits saved; no-op throughput did not move beyond its noise. The gap
 * is no such window: a turn that ends MIN_COMMIT_GAP_MS or more after the last
 * commit commits at its end, and a timer commits at the end of the gap only
 * for turns that ended inside it with nothing after them. Nor is there a gap
 * while other processes write (below).
 *
 * While other processes write too (PRAGMA data_version, read at each
 * commit, moves only for other connections' commits), the lock stays free
 * after each commit until the end of the current turn of the event loop, and
 * writes that arrive meanwhile wait for the next transaction: producers get
 * their turn even while the pool is at full speed. Alone, the pool does not
 * pay for that pause.
 *
 * A write must be one statement or a db.transaction() function (a savepoint
 * inside the batch), so that one that throws is undone alone.
 */
export class GroupCommit {
  private phase: 'idle' | 'open' | 'yielding' = 'idle';
  private waiters: Waiter[] = [];
  private readonly deferred: Array<() => void> = [];
  private seenVersion = -1;
  private sharedUntil = 0;
  private endOfTurnScheduled = false;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private commitBeforeAt = Number.NEGATIVE_INFINITY;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly readVersion: () => number;
  private readonly transaction: WriteTransaction;
  /** A pool's own checkpoints; a producer's event loop runs the user's code and is left to SQLite's. */
  private readonly checkpoints: WalCheckpoint | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly grouped: boolean,
    private readonly lockTimeoutMs: number,
    private readonly file: string,
    private readonly minCommitGapMs = MIN_COMMIT_GAP_MS,
  ) {
    this.readVersion = dataVersionReader(db);
    this.transaction = new WriteTransaction(db);
    this.checkpoints = grouped ? new WalCheckpoint(db, `${file}-wal`) : undefined;
    let siblings = byFile.get(file);
    if (!siblings) byFile.set(file, (siblings = new Set()));
    siblings.add(this);
  }

  /** Forgets this connection (it is closing). */
  detach(): void {
    byFile.get(this.file)?.delete(this);
  }

  /** Commits the open batches of this process's other connections to the same file. */
  private releaseLocalHolders = (): void => {
    for (const sibling of byFile.get(this.file) ?? []) if (sibling !== this) sibling.commit();
  };

  /** Runs `work` in the batch; resolves once its transaction is committed ("resolved" means durable). */
  write<T>(work: () => T): Promise<T> {
    return this.schedule(work, 'batched');
  }

  /**
   * Runs `work` in the batch and commits the batch at once, without waiting
   * for the end of the turn or the gap: for a write that something outside
   * the database acts on as soon as it resolves (a claim: its task goes to a
   * worker). Resolved before its commit, such a write could be undone by a
   * commit that fails (a full disk), while its task ran anyway, and was
   * claimed and run again meanwhile.
   */
  writeNow<T>(work: () => T): Promise<T> {
    return this.schedule(work, 'now');
  }

  /** Whether a batch's transaction is open now: a read made inside it takes no lock of its own. */
  get batchOpen(): boolean {
    return this.phase === 'open';
  }

  /** Commits what is pending now (before the connection closes). */
  flush(): void {
    this.commit();
    this.resume();
    this.commit();
  }

  private schedule<T>(work: () => T, commit: 'batched' | 'now'): Promise<T> {
    if (!this.grouped) return this.writeAlone(work);
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        try {
          if (this.phase === 'idle') this.open();
          this.checkAtEndOfTurn();
          const result = work();
          this.waiters.push({ resolve: () => resolve(result), reject });
          if (commit === 'now') this.commit();
        } catch (error) {
          const failure = storageError(error, this.file);
          // On some errors (a full disk, an I/O error) SQLite ends the whole transaction: the batch's other writes went with it.
          if (this.phase === 'open' && !this.db.inTransaction) this.abandonBatch(failure);
          reject(failure);
        }
      };
      if (this.phase === 'yielding') this.deferred.push(run);
      else run();
    });
  }

  /**
   * Without a window, a write is its own transaction, committed before this
   * returns: a producer's process may block its event loop right after (its
   * own code), and must not hold the write lock while it does.
   */
  private writeAlone<T>(work: () => T): Promise<T> {
    try {
      this.transaction.begin(this.lockTimeoutMs, this.releaseLocalHolders);
      try {
        const result = work();
        this.transaction.commit();
        return Promise.resolve(result);
      } catch (error) {
        this.transaction.rollback();
        throw error;
      }
    } catch (error) {
      return Promise.reject(storageError(error, this.file));
    }
  }

  private open(): void {
    this.transaction.begin(this.lockTimeoutMs, this.releaseLocalHolders);
    this.phase = 'open';
  }

  /** Once per turn that wrote: commits now, or, while commits come in stride, once minCommitGapMs have passed since the last. */
  private checkAtEndOfTurn(): void {
    if (this.endOfTurnScheduled) return;
    this.endOfTurnScheduled = true;
    setImmediate(() => {
      this.endOfTurnScheduled = false;
      if (this.phase !== 'open') return;
      const waitMs = this.lastCommitAt + this.minCommitGapMs - performance.now();
      const inStride = this.lastCommitAt - this.commitBeforeAt <= IN_STRIDE_GAPS * this.minCommitGapMs;
      // While other processes write, they must not wait for the gap: the lock goes at the end of every turn.
      if (waitMs <= 0 || !inStride || Date.now() < this.sharedUntil) this.commit();
      // A turn that ends after the gap commits at its end; the timer covers a loop that went quiet inside it.
      else this.gapTimer ??= setTimeout(() => this.commit(), waitMs);
    });
  }

  private commit(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.phase !== 'open') return;
    this.commitBeforeAt = this.lastCommitAt;
    this.lastCommitAt = performance.now();
    const waiters = this.waiters;
    this.waiters = [];
    this.phase = 'idle';
    if (!this.db.open) return;
    if (this.othersWrite()) {
      this.phase = 'yielding';
      setImmediate(() => this.resume());
    }
    try {
      this.transaction.commit();
    } catch (error) {
      this.transaction.rollback();
      const failure = storageError(error, this.file);
      waiters.forEach((waiter) => waiter.reject(failure));
      return;
    }
    this.checkpoints?.afterCommit();
    waiters.forEach((waiter) => waiter.resolve());
  }

  private abandonBatch(failure: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.phase = 'idle';
    waiters.forEach((waiter) => waiter.reject(failure));
  }

  /** Whether another connection committed within the last second. */
  private othersWrite(): boolean {
    const version = this.readVersion();
    const now = Date.now();
    if (version !== this.seenVersion) {
      if (this.seenVersion !== -1) this.sharedUntil = now + SHARED_FOR_MS;
      this.seenVersion = version;
    }
    return now < this.sharedUntil;
  }

  private resume(): void {
    if (this.phase !== 'yielding') return;
    this.phase = 'idle';
    this.deferred.splice(0).forEach((run) => run());
  }
}
