import path from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import { tempDataDir } from './temp-data.js';

/**
 * A fresh database file in WAL mode with one table, t (n INTEGER), and a
 * second connection to it standing for another process; both are closed
 * after the test.
 */
export function walDatabasePair(label: string, other: Database.Options = {}): { file: string; db: Database.Database; other: Database.Database } {
  const file = path.join(tempDataDir(label), 'test.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER)');
  const second = new Database(file, other);
  after(() => {
    second.close();
    db.close();
  });
  return { file, db, other: second };
}
