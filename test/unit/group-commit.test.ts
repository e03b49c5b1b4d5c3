import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, test } from 'node:test';
import { GroupCommit } from '../../src/adapters/sqlite/group-commit.js';
import { walDatabasePair } from '../support/wal-database.js';

/** Far longer than a turn of the event loop, so that a batch still open one turn later is open because of the window. */
const WINDOW_MS = 200;

/** A pool's connection with a group commit, and a second connection that sees only what was committed. */
function open() {
  const { file, db, other } = walDatabasePair('group-commit', { readonly: true });
  const commits = new GroupCommit(db, WINDOW_MS, 1000, file);
  after(() => commits.detach());
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const committed = () => (other.prepare('SELECT n FROM t ORDER BY n').all() as Array<{ n: number }>).map((row) => row.n);
  return { write: (n: number) => commits.write(() => insert.run(n)), committed };
}

test('writes of one window share one transaction, and each resolves only once it is committed', async () => {
  const { write, committed } = open();
  const first = write(1);
  await nextTurn();
  const second = write(2);
  await nextTurn();
  assert.deepEqual(committed(), [], 'the batch stays open for the window');
  await first;
  assert.deepEqual(committed(), [1, 2], 'resolved: committed, with the write of the same window');
  await second;
  await write(3);
  assert.deepEqual(committed(), [1, 2, 3]);
});
