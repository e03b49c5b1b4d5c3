import fs from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * How often at most a pool's connection checkpoints the WAL itself. At the
 * busiest (no-op tasks), a pool writes a few thousand WAL frames in that
 * time, well under SQLite's own automatic checkpoint (wal_autocheckpoint,
 * 10,000 frames), which stays as the backstop.
 */
export const CHECKPOINT_EVERY_MS = 500;

/**
 * A slower pool waits until about this many frames (12 MB of WAL) have
 * come, going by the rate the last checkpoint saw, and at most
 * CHECKPOINT_MAX_MS. Each checkpoint's syncs wait on the disk once a page,
 * each wait a wake-up of the event loop's thread: a pool of 20 ms tasks on
 * two workers, which writes about 1,200 frames a second, was woken 1.47 to
 * 1.58 times a task checkpointing every 500 ms and 1.27 to 1.31 times every
 * 2.5 s (six runs each), and its hot pages are copied once a checkpoint.
 */
export const CHECKPOINT_FRAMES = 3000;
export const CHECKPOINT_MAX_MS = 5000;

export interface CheckpointPace {
  /** The least time between two checkpoints. */
  everyMs: number;
  /** The frames to wait for, going by the last checkpoint's rate. */
  frames: number;
  /** The most time between two checkpoints. */
  maxMs: number;
}

const DEFAULT_PACE: CheckpointPace = { everyMs: CHECKPOINT_EVERY_MS, frames: CHECKPOINT_FRAMES, maxMs: CHECKPOINT_MAX_MS };

/** How long to wait for the next checkpoint, once the last saw `frames` frames come in `sinceLastMs`. */
export function checkpointWaitMs(frames: number, sinceLastMs: number, pace: CheckpointPace): number {
  const perMs = frames / Math.max(1, sinceLastMs);
  return perMs > 0 ? Math.min(pace.maxMs, Math.max(pace.everyMs, pace.frames / perMs)) : pace.everyMs;
}

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
  private readonly pace: CheckpointPace;
  private waitMs: number;

  constructor(
    private readonly db: Database.Database,
    private readonly walFile: string,
    pace: Partial<CheckpointPace> = {},
  ) {
    const given = { ...DEFAULT_PACE, ...pace };
    this.pace = { ...given, maxMs: Math.max(given.maxMs, given.everyMs) };
    this.waitMs = this.pace.everyMs;
  }

  /** Called right after each commit, when the connection has no transaction open. */
  afterCommit(): void {
    if (this.phase === 'due') this.checkpoint();
    else if (this.phase === 'waiting' && performance.now() - this.lastAt >= this.waitMs) this.syncWal();
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
    const now = performance.now();
    const sinceLastMs = now - this.lastAt;
    this.lastAt = now;
    try {
      // `log` counts the frames since the WAL last started over, after the previous checkpoint unless a reader held it.
      const [result] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
      this.waitMs = checkpointWaitMs(result?.log ?? 0, sinceLastMs, this.pace);
    } catch {
      // Left for the next one, and SQLite's own at wal_autocheckpoint frames.
      this.waitMs = this.pace.everyMs;
    }
  }
}
