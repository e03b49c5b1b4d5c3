import fs from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * How often a pool's connection checkpoints the WAL itself. At the
 * busiest (no-op tasks), a pool writes a few thousand WAL frames in that
 * time, well under SQLite's own automatic checkpoint (wal_autocheckpoint,
 * 10,000 frames), which stays as the backstop.
 */
export const CHECKPOINT_EVERY_MS = 500;

/**
 * Checkpoints the WAL without stalling the event loop on the disk. SQLite's
 * automatic checkpoint runs inside the commit that crosses its threshold, and
 * with synchronous=NORMAL it first syncs the WAL: the megabytes written since
 * the last checkpoint go to disk while the commit waits. A pool of 2 ms tasks
 * froze for 60 to 90 ms every two seconds or so here, far longer than the
 * work its workers hold (the lookahead), and both cores went idle meanwhile.
 * A checkpoint of 3,333 frames took 28-33 ms with its syncs and 4 ms without.
 *
 * So the WAL is synced first, off the event loop (fdatasync on libuv's thread
 * pool), and the checkpoint runs at the first commit after that: its own sync
 * of the WAL then finds little to write, and the database file's sync only
 * the pages it copied. SQLite's guarantees are untouched: it still syncs
 * before it lets the WAL start over. The checkpoint is PASSIVE: it never
 * waits for a lock, and what it cannot copy now, the next one will.
 */
export class WalCheckpoint {
  private phase: 'waiting' | 'syncing' | 'due' = 'waiting';
  private lastAt = performance.now();

  constructor(
    private readonly db: Database.Database,
    private readonly walFile: string,
    private readonly everyMs = CHECKPOINT_EVERY_MS,
  ) {}

  /** Called right after each commit, when the connection has no transaction open. */
  afterCommit(): void {
    if (this.phase === 'due') this.checkpoint();
    else if (this.phase === 'waiting' && performance.now() - this.lastAt >= this.everyMs) this.syncWal();
  }

  private syncWal(): void {
    this.phase = 'syncing';
    const done = () => {
      this.phase = 'due';
    };
    // Any descriptor of the file will do: fdatasync writes out the file's dirty pages, whoever wrote them.
    fs.open(this.walFile, 'r', (openError, fd) => {
      if (openError) return done();
      fs.fdatasync(fd, () => fs.close(fd, done));
    });
  }

  private checkpoint(): void {
    this.phase = 'waiting';
    this.lastAt = performance.now();
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Left for the next one, and SQLite's own at wal_autocheckpoint frames.
    }
  }
}
