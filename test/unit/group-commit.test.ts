import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { GroupCommit } from '../../src/adapters/sqlite/group-commit.js';
import { StorageFullError } from '../../src/core/errors.js';
import { walDatabasePair } from '../support/wal-database.js';

/** A pool's connection with a group commit, and a second connection, another process's, that sees only what was committed. */
function open(minCommitGapMs?: number) {
  const { file, db, other } = walDatabasePair('group-commit');
  const commits = new GroupCommit(db, true, 1000, file, minCommitGapMs);
  after(() => commits.detach());
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const committed = () => (other.prepare('SELECT n FROM t ORDER BY n').all() as Array<{ n: number }>).map((row) => row.n);
  const otherWrites = (n: number) => other.prepare('INSERT INTO t (n) VALUES (?)').run(n);
  return {
    db,
    file,
    write: (n: number) => commits.write(() => insert.run(n)),
    writeNow: (n: number) => commits.writeNow(() => insert.run(n)),
    commits,
    committed,
    otherWrites,
  };
}

test('the writes of one turn share one transaction, committed at its end, and each resolves only once it is committed', async () => {
  const { write, committed } = open();
  const first = write(1);
  const second = write(2);
  assert.deepEqual(committed(), [], 'the transaction stays open until the end of the turn');
  let firstDone = false;
  void first.then(() => (firstDone = true));
  await Promise.resolve();
  assert.equal(firstDone, false, 'not resolved before the commit');
  await nextTurn();
  assert.deepEqual(committed(), [1, 2], 'committed together at the end of the turn');
  await first;
  await second;
  await write(3);
  assert.deepEqual(committed(), [1, 2, 3], 'the next turn gets a transaction of its own');
});

test('while commits come in stride, turns within the gap after a commit share the next commit; a turn after the gap commits at its end', async () => {
  const gapMs = 300;
  const { write, committed } = open(gapMs);
  await write(1);
  // The first commits are out of stride: this turn commits at its end, and brings the commits in stride.
  await write(2);
  const lastCommitAt = performance.now();
  const third = write(3);
  await nextTurn();
  const fourth = write(4);
  await nextTurn();
  assert.deepEqual(committed(), [1, 2], 'the turns right after a commit stay open');
  await Promise.all([third, fourth]);
  assert.deepEqual(committed(), [1, 2, 3, 4], 'committed together once the gap has passed, though no turn wrote then');
  // Timers may fire up to a millisecond early against performance.now().
  assert.ok(performance.now() - lastCommitAt >= gapMs - 2, 'not before the gap');
  await sleep(gapMs + 50);
  void write(5);
  await nextTurn();
  assert.deepEqual(committed(), [1, 2, 3, 4, 5], 'a turn long after the last commit commits at its end');
});

test('out of stride, the last two commits further apart than two gaps, a turn inside the gap commits at its end: no timer wakes the process to end the gap', async () => {
  const gapMs = 100;
  const { write, committed } = open(gapMs);
  await write(1);
  await sleep(2 * gapMs + 50);
  await write(2);
  void write(3);
  await nextTurn();
  assert.deepEqual(committed(), [1, 2, 3]);
});

test('once a commit has seen another process write, every turn commits at its end, gap or not: producers never wait for it', async () => {
  const gapMs = 300;
  const { write, committed, otherWrites } = open(gapMs);
  await write(1);
  otherWrites(100);
  // Its commit, after the gap, is the first to see the other process's write.
  await write(2);
  const start = performance.now();
  await write(3);
  assert.ok(performance.now() - start < gapMs / 2, 'committed within a turn or two, not after the gap');
  assert.deepEqual(committed(), [1, 2, 3, 100]);
});

test('writeNow commits at once, with the writes of the turn before it, gap or not', async () => {
  const { write, writeNow, committed } = open(10_000);
  await write(1);
  const second = write(2);
  const third = writeNow(3);
  assert.deepEqual(committed(), [1, 2, 3], 'committed before writeNow returned, inside the gap');
  await Promise.all([second, third]);
});

test('a write that fills the disk fails with StorageFullError, and so do the writes SQLite undid with it; the next turn writes again', async () => {
  const { db, file, write, commits, committed } = open();
  await write(1);
  // A database that may not grow: SQLite fails the write that would need a new page as on a full disk.
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const insertBig = db.prepare('INSERT INTO t (n) VALUES (?)');
  const before = write(2);
  const filling = commits.write(() => {
    for (let n = 0; n < 10_000; n++) insertBig.run(Number.MAX_SAFE_INTEGER - n);
  });
  await assert.rejects(filling, (error: unknown) => error instanceof StorageFullError && error.code === 'storage_full' && error.message.includes(file));
  await assert.rejects(before, StorageFullError, 'SQLite ended the whole transaction: the write before it is undone too, and says so');
  assert.equal(db.inTransaction, false);
  await nextTurn();
  await write(3);
  assert.deepEqual(committed(), [1, 3]);
});
