import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store, TaskUpdate } from '../../src/ports/store.js';
import { StartRecords, type Start } from '../../src/runtime/pool/start-records.js';

/** A store whose updateTasks records each batch and lands only when told to. */
function storeWithHeldWrites() {
  const batches: string[][] = [];
  const land: Array<(error?: Error) => void> = [];
  const store = {
    updateTasks: (updates: readonly TaskUpdate[]) => {
      batches.push(updates.map((update) => update.id));
      return new Promise<void>((resolve, reject) => land.push((error) => (error ? reject(error) : resolve())));
    },
  } as unknown as Store;
  return { store, batches, land };
}

function start(id: string, startedAt = 1): Start {
  return { id, queue: 'default', type: 'noop', state: 'running', startedAt, poolId: 'pool', workerPid: 1 };
}

test('the starts of a tick go in one write; a task that ended first is left out; none is written twice', async () => {
  const { store, batches, land } = storeWithHeldWrites();
  const starts = new StartRecords(store);
  starts.started(start('a'));
  starts.started(start('b'));
  starts.started(start('c'));
  starts.forget('b');
  const written = starts.write(1000, 50);
  assert.deepEqual(batches, [['a', 'c']]);
  await starts.write(1000, 50);
  assert.deepEqual(batches, [['a', 'c']], 'nothing new to write: no second write');
  land[0]!();
  await written;
});

test("while a start is on its way, writing(id) is what the task's outcome must wait for; once it landed, nothing", async () => {
  const { store, land } = storeWithHeldWrites();
  const starts = new StartRecords(store);
  starts.started(start('a'));
  assert.equal(starts.writing('a'), undefined, 'not on its way before the tick');
  const written = starts.write(1000, 50);
  const pending = starts.writing('a');
  assert.ok(pending);
  assert.equal(starts.writing('other'), undefined);
  land[0]!();
  await written;
  assert.equal(starts.writing('a'), undefined);
});

test('a failed write fails the tick and leaves nothing waiting on it', async () => {
  const { store, land } = storeWithHeldWrites();
  const starts = new StartRecords(store);
  starts.started(start('a'));
  const written = starts.write(1000, 50);
  land[0]!(new Error('disk full'));
  await assert.rejects(written, /disk full/);
  assert.equal(starts.writing('a'), undefined);
});

test('a tick writes only the starts of tasks that have run for minRunMs; the others wait for a later tick, or for none', async () => {
  const { store, batches, land } = storeWithHeldWrites();
  const starts = new StartRecords(store);
  starts.started(start('long', 900));
  starts.started(start('short', 980));
  starts.started(start('quick', 990));
  const first = starts.write(1000, 50);
  assert.deepEqual(batches, [['long']], 'only the task that has run 100 ms');
  starts.forget('quick');
  const second = starts.write(1100, 50);
  assert.deepEqual(batches, [['long'], ['short']], 'the task still running by the next tick; not the one that ended');
  land[0]!();
  land[1]!();
  await Promise.all([first, second]);
});
