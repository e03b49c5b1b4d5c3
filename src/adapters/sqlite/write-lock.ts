import type Database from 'better-sqlite3';
import { StorageUnavailableError } from '../../core/errors.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The write transaction of one connection: BEGIN IMMEDIATE, COMMIT and
 * ROLLBACK as statements prepared once (db.exec would parse them at every
 * transaction of a busy pool).
 */
export class WriteTransaction {
  private readonly beginStatement: Database.Statement;
  private readonly commitStatement: Database.Statement;
  private readonly rollbackStatement: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.beginStatement = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
    this.rollbackStatement = db.prepare('ROLLBACK');
  }

  /**
   * Takes the database's write lock, retrying every few tens of microseconds
   * while another process holds it. SQLite's own busy handler sleeps a
   * millisecond and more between tries: a process that writes often (a busy
   * pool) would almost never be caught between two of its transactions, and a
   * producer in another process would starve. The connection runs with
   * busy_timeout = 0 once open (reads never wait in WAL mode), so only this
   * one statement retries.
   */
  begin(timeoutMs: number, releaseLocalHolders: () => void): void {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        this.beginStatement.run();
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        // The holder may be another connection of this very process, whose commit waits for the event
        // loop this loop is blocking: have it commit now, or this would wait for nothing.
        if (attempt === 0) releaseLocalHolders();
        if (Date.now() >= deadline) {
          throw new StorageUnavailableError(
            `the database stayed locked by another process for ${timeoutMs} ms; check for a stuck gaffer process using the same --data`,
            { cause: error },
          );
        }
        // 20 to 100 µs at first, jittered so that two waiting processes do not march in step; up to 1 ms later.
        const ceilingMs = Math.min(1, 0.1 * 2 ** Math.floor(attempt / 50));
        Atomics.wait(sleeper, 0, 0, 0.02 + Math.random() * (ceilingMs - 0.02));
      }
    }
  }

  commit(): void {
    this.commitStatement.run();
  }

  /**
   * Undoes the open transaction, if SQLite has not already (some errors end
   * it by themselves). It is called after a failure, which its caller
   * reports; should the rollback fail too, SQLite has ended the transaction.
   */
  rollback(): void {
    try {
      if (this.db.inTransaction) this.rollbackStatement.run();
    } catch {
      // The failure that led here is what the caller reports.
    }
  }
}
