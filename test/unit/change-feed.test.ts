import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ChangeFeed } from '../../src/adapters/sqlite/change-feed.js';
import { sleep, waitFor } from '../support/temp-data.js';
import { walDatabasePair } from '../support/wal-database.js';

/** Longer than any test here waits: a listener called in time was not woken by the poll. */
const NEVER_MS = 600_000;

/** A fresh WAL database: one connection for the feed, the other playing another process. */
function open() {
  const { file, db, other } = walDatabasePair('change-feed');
  return { file, mine: db, otherWrites: (n: number) => other.prepare('INSERT INTO t (n) VALUES (?)').run(n) };
}

test("another process's commit wakes every listener through the file system's report, without waiting for the poll", async () => {
  const { file, mine, otherWrites } = open();
  const feed = new ChangeFeed(mine, NEVER_MS, file);
  after(() => feed.close());
  const woken: string[] = [];
  feed.subscribe('tasks', () => woken.push('tasks'));
  feed.subscribe('cancellations', () => woken.push('cancellations'));

  otherWrites(1);
  await waitFor(() => woken.length === 2, 'both listeners', 5000);
  otherWrites(2);
  await waitFor(() => woken.length === 4, 'both listeners again', 5000);
  assert.deepEqual(woken.sort(), ['cancellations', 'cancellations', 'tasks', 'tasks']);
});

test("this connection's own commits wake nobody: only another connection's move data_version", async () => {
  const { file, mine, otherWrites } = open();
  const feed = new ChangeFeed(mine, NEVER_MS, file);
  after(() => feed.close());
  let woken = 0;
  feed.subscribe('tasks', () => woken++);

  mine.prepare('INSERT INTO t (n) VALUES (?)').run(1);
  otherWrites(2);
  await waitFor(() => woken === 1, "the other connection's write", 5000);
  mine.prepare('INSERT INTO t (n) VALUES (?)').run(3);
  await sleep(200);
  assert.equal(woken, 1);
});

test('without a file to watch, the feed polls', async () => {
  const { mine, otherWrites } = open();
  const feed = new ChangeFeed(mine, 20);
  after(() => feed.close());
  let woken = 0;
  feed.subscribe('store', () => woken++);
  otherWrites(1);
  await waitFor(() => woken === 1, 'the poll', 5000);
});

test('a connection that turns busy (it polls) and quiet again (it watches again) hears other processes in both states', async () => {
  const { file, mine, otherWrites } = open();
  const feed = new ChangeFeed(mine, 50, file);
  after(() => feed.close());
  let woken = 0;
  feed.subscribe('tasks', () => woken++);

  for (let n = 0; n < 20; n++) {
    feed.localWrite();
    mine.prepare('INSERT INTO t (n) VALUES (?)').run(n);
  }
  otherWrites(10);
  await waitFor(() => woken === 1, 'the busy connection hears the other process', 5000);
  await sleep(1200);
  otherWrites(11);
  await waitFor(() => woken === 2, 'the quiet connection hears the other process again', 5000);
});

test("a busy connection looks on its own writes: it hears another process within twice the poll while it writes", async () => {
  const { file, mine, otherWrites } = open();
  const pollMs = 200;
  const feed = new ChangeFeed(mine, pollMs, file);
  after(() => feed.close());
  let heardAt: number | undefined;
  feed.subscribe('tasks', () => (heardAt ??= performance.now()));
  const insert = mine.prepare('INSERT INTO t (n) VALUES (?)');
  let otherAt = Number.NaN;
  // Three writes every 10 ms, as a pool finishing 100 tasks a second makes: the connection turns busy (it stops
  // watching), and looks at data_version on its writes.
  for (let n = 0; n < 120; n++) {
    for (let write = 0; write < 3; write++) feed.localWrite();
    insert.run(n);
    if (n === 40) {
      otherWrites(1000);
      otherAt = performance.now();
    }
    await sleep(10);
  }
  assert.ok(heardAt !== undefined, 'the other process was heard while this connection wrote');
  assert.ok(heardAt - otherAt < 2 * pollMs + 100, `heard ${Math.round(heardAt - otherAt)} ms after the other write, within twice the poll`);
});
