import Database from 'better-sqlite3';
import path from 'node:path';
import type { JournalTask, TaskJournal } from './task-journal.js';

/**
 * The durable fork-pool anchor's journal on SQLite, set up as gaffer's
 * embedded database is (WAL, synchronous NORMAL): one table, and one
 * transaction, so one commit, per task end: the task done, the next claimed.
 */
export class SqliteTaskJournal implements TaskJournal {
  readonly name = 'SQLite, a commit per task';
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly step: (doneId: string | undefined, claimNext: boolean, now: number) => JournalTask | undefined;
  private batch = 0;

  constructor(dir: string) {
    this.db = new Database(path.join(dir, 'journal.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE tasks (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL, iterations INTEGER NOT NULL, finished_at INTEGER);
      CREATE INDEX tasks_ready ON tasks (seq) WHERE state = 'queued';`);
    this.insert = this.db.prepare(`INSERT INTO tasks (id, seq, state, iterations) VALUES (?, ?, 'queued', ?)`);
    const finish = this.db.prepare(`UPDATE tasks SET state = 'done', finished_at = ? WHERE id = ?`);
    const oldest = this.db.prepare(`SELECT id, iterations FROM tasks WHERE state = 'queued' ORDER BY seq LIMIT 1`);
    const claim = this.db.prepare(`UPDATE tasks SET state = 'running' WHERE id = ?`);
    this.step = this.db.transaction((doneId: string | undefined, claimNext: boolean, now: number) => {
      if (doneId !== undefined) finish.run(now, doneId);
      if (!claimNext) return undefined;
      const task = oldest.get() as JournalTask | undefined;
      if (task) claim.run(task.id);
      return task;
    });
  }

  async enqueue(count: number, iterations: number): Promise<void> {
    const batch = ++this.batch;
    this.db.transaction(() => {
      for (let i = 0; i < count; i++) this.insert.run(`${batch}-${i}`, batch * 1_000_000 + i, iterations);
    })();
  }

  async advance(doneId: string | undefined, claimNext: boolean): Promise<JournalTask | undefined> {
    return this.step(doneId, claimNext, Date.now());
  }

  close(): void {
    this.db.close();
  }
}
