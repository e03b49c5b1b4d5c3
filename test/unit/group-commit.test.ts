import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, test } from 'node:test';
import { GroupCommit } from '../../src/adapters/sqlite/group-commit.js';
import { walDatabasePair } from '../support/wal-database.js';

/** A pool's connection with a group commit, and a second connection that sees only what was committed. */
function open() {
  const { file, db, other } = walDatabasePair('group-commit', { readonly: true });
  const commits = new GroupCommit(db, true, 1000, file);
  after(() => commits.detach());
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const committed = () => (other.prepare('SELECT n FROM t ORDER BY n').all() as Array<{ n: number }>).map((row) => row.n);
  return { write: (n: number) => commits.write(() => insert.run(n)), committed };
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
