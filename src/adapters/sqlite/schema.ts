import type Database from 'better-sqlite3';

/**
 * The embedded database's schema, one migration per version (PRAGMA
 * user_version). broker_* tables belong to the broker adapter and store_*
 * tables to the store adapter; they share the file, never each other's rows.
 */
// Each index is partial, over the one state it serves, so that a task moving
// from queued to running to done touches as few index entries as possible.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE broker_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    key TEXT,
    grp TEXT,
    race INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead', 'cancelled')),
    -- 1 while an older unfinished task of the same key exists: only a key's head may run.
    key_blocked INTEGER NOT NULL DEFAULT 0,
    -- When the producer asked it to run (the envelope's runAt, or enqueued_at).
    run_at INTEGER NOT NULL,
    -- When it may be claimed next: run_at, or later after a retry's backoff.
    due_at INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    deaths INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    -- Counts claims, so that an ack from an earlier lease of the same owner matches nothing.
    claims INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    dead_reason TEXT,
    finished_at INTEGER
  );
  -- Claims walk this index in seq order (replaced in the fourth migration).
  CREATE INDEX broker_ready ON broker_tasks (queue, seq, due_at) WHERE state = 'queued' AND key_blocked = 0;
  CREATE INDEX broker_key_active ON broker_tasks (queue, key, seq) WHERE key IS NOT NULL AND state IN ('queued', 'running');
  CREATE INDEX broker_leases ON broker_tasks (lease_owner) WHERE state = 'running';
  CREATE INDEX broker_dead ON broker_tasks (queue, finished_at) WHERE state = 'dead';
  CREATE INDEX broker_groups ON broker_tasks (grp) WHERE grp IS NOT NULL;
  CREATE INDEX broker_finished ON broker_tasks (finished_at) WHERE state IN ('done', 'cancelled');
  CREATE TABLE broker_queue_counters (
    queue TEXT PRIMARY KEY,
    enqueued_total INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE store_tasks (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT,
    grp TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    deaths INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    result TEXT,
    error TEXT,
    dead_reason TEXT,
    pool_id TEXT,
    worker_pid INTEGER
  );
  CREATE INDEX store_tasks_finished ON store_tasks (finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE store_pools (
    id TEXT PRIMARY KEY,
    heartbeat_at INTEGER NOT NULL,
    snapshot TEXT NOT NULL
  );
  CREATE TABLE store_decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pool_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX store_decisions_pool ON store_decisions (pool_id, seq);
  `,
  `
  -- Run-time controls: paused queues, and min/max overrides of pools.
  CREATE TABLE store_paused_queues (queue TEXT PRIMARY KEY);
  CREATE TABLE store_pool_limits (pool_id TEXT PRIMARY KEY, min INTEGER NOT NULL, max INTEGER NOT NULL);
  `,
  `
  -- Task records keyed by id alone (WITHOUT ROWID): a write touches one B-tree instead of the table and its id index.
  CREATE TABLE store_tasks_by_id (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT,
    grp TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    deaths INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    result TEXT,
    error TEXT,
    dead_reason TEXT,
    pool_id TEXT,
    worker_pid INTEGER
  ) WITHOUT ROWID;
  INSERT INTO store_tasks_by_id SELECT id, queue, type, key, grp, state, attempts, deaths, enqueued_at, started_at, finished_at, result, error, dead_reason, pool_id, worker_pid FROM store_tasks;
  DROP TABLE store_tasks;
  ALTER TABLE store_tasks_by_id RENAME TO store_tasks;
  CREATE INDEX store_tasks_finished ON store_tasks (finished_at) WHERE finished_at IS NOT NULL;
  `,
  `
  -- Delayed tasks (a later run_at, or a retry's backoff) wait apart until they are due: a claim walks broker_ready in
  -- seq order, and walked past every one of them. Claims promote the due ones (delayed = 0) first.
  ALTER TABLE broker_tasks ADD COLUMN delayed INTEGER NOT NULL DEFAULT 0;
  UPDATE broker_tasks SET delayed = 1 WHERE state = 'queued' AND due_at > enqueued_at;
  DROP INDEX broker_ready;
  CREATE INDEX broker_ready ON broker_tasks (queue, seq) WHERE state = 'queued' AND key_blocked = 0 AND delayed = 0;
  CREATE INDEX broker_delayed ON broker_tasks (queue, due_at) WHERE state = 'queued' AND key_blocked = 0 AND delayed = 1;
  `,
  `
  -- The ids of task records as they become final, in commit order (writes hold the lock from insert to commit): a
  -- client waiting for results reads what is new since its last look, however many tasks it waits for.
  CREATE TABLE store_finals (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
  `,
];

export function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database was written by a newer gaffer (schema ${version}, this one knows ${MIGRATIONS.length}); upgrade gaffer`);
    }
    if (version === MIGRATIONS.length) return;
    for (let next = version; next < MIGRATIONS.length; next++) db.exec(MIGRATIONS[next]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  // IMMEDIATE takes the write lock first, so two processes starting together migrate once. An
  // up-to-date database is not written to: `gaffer status` still reads one on a full disk.
  apply.immediate();
}
