import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StorageUnavailableError } from '../../core/errors.js';
import { ChangeFeed } from './change-feed.js';
import { migrate } from './schema.js';

export interface SqliteDatabaseOptions {
  /** How long a writer waits for another process's write lock. */
  busyTimeoutMs?: number;
  /** How often other processes' writes are looked for while someone listens. */
  pollMs?: number;
}

/**
 * One connection to the embedded database file, shared by the broker and the
 * store of a process. WAL lets producers in other processes write while a
 * pool reads; synchronous=NORMAL keeps every commit across a kill -9 (only a
 * power loss can take the last ones).
 */
export class SqliteDatabase {
  readonly changes: ChangeFeed;
  private users = 0;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    pollMs: number,
  ) {
    this.changes = new ChangeFeed(db, pollMs);
  }

  static open(file: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const db = new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return new SqliteDatabase(db, file, options.pollMs ?? 20);
    } catch (error) {
      throw new StorageUnavailableError(
        `cannot open the gaffer database at ${file}: ${(error as Error).message}; check the path and its permissions, or choose another with --data / GAFFER_DATA`,
        { cause: error },
      );
    }
  }

  /** Counts an adapter that uses this connection; the last one to release it closes it. */
  retain(): this {
    this.users++;
    return this;
  }

  release(): void {
    this.users--;
    if (this.users <= 0 && this.db.open) {
      this.changes.close();
      this.db.close();
    }
  }
}
