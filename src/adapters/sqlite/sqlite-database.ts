import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GafferError, StorageUnavailableError } from '../../core/errors.js';
import { ChangeFeed } from './change-feed.js';
import { GroupCommit } from './group-commit.js';
import { migrate } from './schema.js';
import { storageError } from './storage-errors.js';

export interface SqliteDatabaseOptions {
  /** How long a writer waits for another process's write lock. */
  busyTimeoutMs?: number;
  /** How often other processes' writes are looked for while someone listens, until the file system has shown that it reports them (see ChangeFeed). */
  pollMs?: number;
  /**
   * Group commit: the writes of one turn of the event loop share a
   * transaction, and turns that come within a few milliseconds of the last
   * commit share the next one (see GroupCommit). Off (the default), every
   * write commits at once; only a process whose event loop never blocks (a
   * pool manager) should set it.
   */
  groupCommit?: boolean;
}

/**
 * One connection to the embedded database file, shared by the broker and the
 * store of a process. WAL lets producers in other processes write while a
 * pool reads; synchronous=NORMAL keeps every commit across a kill -9 (only a
 * power loss can take the last ones). Writes go through a group commit.
 */
export class SqliteDatabase {
  readonly changes: ChangeFeed;
  private users = 0;
  private readonly commits: GroupCommit;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    pollMs: number,
    groupCommit: boolean,
    lockTimeoutMs: number,
  ) {
    this.changes = new ChangeFeed(db, pollMs, file);
    this.commits = new GroupCommit(db, groupCommit, lockTimeoutMs, file);
  }

  static open(file: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const lockTimeoutMs = options.busyTimeoutMs ?? 10_000;
      const db = new Database(file, { timeout: lockTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('wal_autocheckpoint = 10000');
      migrate(db);
      // From here on, writers wait in WriteTransaction.begin's own retry loop (see write-lock.ts), never in SQLite's.
      db.pragma('busy_timeout = 0');
      return new SqliteDatabase(db, file, options.pollMs ?? 20, options.groupCommit ?? false, lockTimeoutMs);
    } catch (error) {
      const known = storageError(error, file);
      if (known instanceof GafferError) throw known;
      throw new StorageUnavailableError(
        `cannot open the gaffer database at ${file}: ${(error as Error).message}; check the path and its permissions, or choose another with --data / GAFFER_DATA`,
        { cause: error },
      );
    }
  }

  /** Writes in the current group commit; resolves once committed. */
  write<T>(work: () => T): Promise<T> {
    this.changes.localWrite();
    return this.commits.write(work);
  }

  /** Writes in the current group commit and commits it at once (see GroupCommit.writeNow). */
  writeNow<T>(work: () => T): Promise<T> {
    this.changes.localWrite();
    return this.commits.writeNow(work);
  }

  /** Whether the group commit's transaction is open now (see GroupCommit.batchOpen). */
  get batchOpen(): boolean {
    return this.commits.batchOpen;
  }

  /** Counts an adapter that uses this connection; the last one to release it closes it. */
  retain(): this {
    this.users++;
    return this;
  }

  release(): void {
    this.users--;
    if (this.users <= 0 && this.db.open) {
      this.commits.flush();
      this.commits.detach();
      this.changes.close();
      this.db.close();
    }
  }
}
