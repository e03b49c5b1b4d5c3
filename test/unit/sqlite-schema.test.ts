import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrate, MIGRATIONS } from '../../src/adapters/sqlite/schema.js';

/** A database as gaffer left it at an older schema version. */
function databaseAt(version: number): Database.Database {
  const db = new Database(':memory:');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  return db;
}

function tableSql(db: Database.Database, name: string): string {
  return (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(name) as string | undefined) ?? '';
}

describe('embedded schema migrations', () => {
  test('a new database gets every migration', () => {
    const db = new Database(':memory:');
    migrate(db);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.match(tableSql(db, 'store_tasks'), /WITHOUT ROWID/);
  });

  test('version 3 keeps the task records of version 2, keyed by id alone', () => {
    const db = databaseAt(2);
    db.prepare(
      `INSERT INTO store_tasks (id, queue, type, state, attempts, enqueued_at, finished_at, result, pool_id, worker_pid)
       VALUES ('t1', 'default', 'resize', 'succeeded', 1, 100, 200, '{"ok":true}', 'pool-a', 42),
              ('t2', 'default', 'resize', 'queued', 0, 150, NULL, NULL, NULL, NULL)`,
    ).run();
    migrate(db);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.match(tableSql(db, 'store_tasks'), /WITHOUT ROWID/);
    const rows = db.prepare('SELECT id, state, attempts, enqueued_at, finished_at, result, pool_id, worker_pid FROM store_tasks ORDER BY id').all();
    assert.deepEqual(rows, [
      { id: 't1', state: 'succeeded', attempts: 1, enqueued_at: 100, finished_at: 200, result: '{"ok":true}', pool_id: 'pool-a', worker_pid: 42 },
      { id: 't2', state: 'queued', attempts: 0, enqueued_at: 150, finished_at: null, result: null, pool_id: null, worker_pid: null },
    ]);
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'store_tasks' AND sql IS NOT NULL`).pluck().all();
    assert.deepEqual(indexes, ['store_tasks_finished']);
  });

  test('version 4 sets apart the queued tasks of version 3 that wait for a later time', () => {
    const db = databaseAt(3);
    const insert = db.prepare(
      `INSERT INTO broker_tasks (id, queue, type, payload, state, run_at, due_at, enqueued_at) VALUES (?, 'default', 'resize', '{}', ?, ?, ?, 100)`,
    );
    insert.run('now', 'queued', 100, 100);
    insert.run('later', 'queued', 900, 900);
    insert.run('retrying', 'queued', 100, 500);
    insert.run('running', 'running', 100, 100);
    migrate(db);
    const rows = db.prepare('SELECT id, delayed FROM broker_tasks ORDER BY seq').all();
    assert.deepEqual(rows, [
      { id: 'now', delayed: 0 },
      { id: 'later', delayed: 1 },
      { id: 'retrying', delayed: 1 },
      { id: 'running', delayed: 0 },
    ]);
    const ready = db.prepare(`SELECT id FROM broker_tasks WHERE queue = 'default' AND state = 'queued' AND key_blocked = 0 AND delayed = 0 ORDER BY seq`).pluck().all();
    assert.deepEqual(ready, ['now']);
  });

  test('migrating twice changes nothing', () => {
    const db = new Database(':memory:');
    migrate(db);
    const before = db.prepare('SELECT name, sql FROM sqlite_master ORDER BY name').all();
    migrate(db);
    assert.deepEqual(db.prepare('SELECT name, sql FROM sqlite_master ORDER BY name').all(), before);
  });

  test('a database from a newer gaffer is refused, untouched', () => {
    const db = new Database(':memory:');
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    assert.throws(() => migrate(db), /newer gaffer .*upgrade gaffer/);
    assert.equal(db.prepare(`SELECT count(*) FROM sqlite_master`).pluck().get(), 0);
  });
});
