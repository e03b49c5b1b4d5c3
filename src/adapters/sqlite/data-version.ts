import type Database from 'better-sqlite3';

/**
 * A reader of PRAGMA data_version, which moves only when another connection
 * commits. It is read at every group commit and every change-feed poll, so
 * the statement is prepared once: db.pragma() prepares a new one per call.
 */
export function dataVersionReader(db: Database.Database): () => number {
  const statement = db.prepare('PRAGMA data_version').pluck();
  return () => statement.get() as number;
}
