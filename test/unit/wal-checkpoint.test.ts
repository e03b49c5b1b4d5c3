import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { checkpointWaitMs, WalCheckpoint } from '../../src/adapters/sqlite/wal-checkpoint.js';
import { walDatabasePair } from '../support/wal-database.js';

/** Frames in the WAL now, as another connection sees them (a PASSIVE checkpoint that copies what it can and reports). */
function walFrames(other: import('better-sqlite3').Database): number {
  const [result] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return result!.log;
}

test('a connection that keeps committing checkpoints its WAL by itself, so the WAL starts over instead of growing', async () => {
  const { file, db, other } = walDatabasePair('wal-checkpoint');
  db.pragma('wal_autocheckpoint = 0'); // only the checkpoints under test
  const checkpoints = new WalCheckpoint(db, `${file}-wal`, { everyMs: 20, frames: 1 });
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  let commits = 0;
  const until = performance.now() + 300;
  while (performance.now() < until) {
    insert.run(commits++); // each one its own transaction: at least a frame each
    checkpoints.afterCommit();
    await sleep(1);
  }
  const frames = walFrames(other);
  assert.ok(commits > 50, `only ${commits} commits`);
  // Without the checkpoints, the WAL would hold a frame per commit or more.
  assert.ok(frames < commits / 2, `the WAL holds ${frames} frames after ${commits} commits`);
});

test('a connection checkpoints no more often than it is told to', async () => {
  const { file, db, other } = walDatabasePair('wal-checkpoint-rate');
  db.pragma('wal_autocheckpoint = 0');
  const checkpoints = new WalCheckpoint(db, `${file}-wal`, { everyMs: 60_000 });
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  for (let n = 0; n < 100; n++) {
    insert.run(n);
    checkpoints.afterCommit();
    await nextTurn();
  }
  assert.ok(walFrames(other) >= 100, 'no checkpoint within the minute');
});

test('the next checkpoint waits for about `frames` frames at the last rate, within everyMs and maxMs', () => {
  const pace = { everyMs: 500, frames: 3000, maxMs: 5000 };
  // [frames the last checkpoint saw, ms since the one before, expected wait]
  const cases: Array<[number, number, number]> = [
    [3333, 500, 500], // no-op tasks: as fast as allowed
    [600, 500, 2500], // 20 ms tasks on two workers: 1,200 frames a second
    [60, 500, 5000], // 200 ms tasks: the longest wait
    [0, 500, 500], // nothing written (a reader held the WAL, or it just started over): the shortest
    [10, 0, 500], // two checkpoints in the same millisecond
  ];
  for (const [frames, sinceLastMs, expected] of cases) {
    assert.equal(checkpointWaitMs(frames, sinceLastMs, pace), expected, `${frames} frames in ${sinceLastMs} ms`);
  }
});
