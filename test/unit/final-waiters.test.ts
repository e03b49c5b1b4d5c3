import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.js';
import { FinalWaiters } from '../../src/adapters/sqlite/store/final-waiters.js';
import { taskRecordOperations } from '../../src/adapters/sqlite/store/task-records.js';
import type { TaskRecord } from '../../src/core/task-record.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

function queued(id: string): TaskRecord {
  return { id, queue: 'default', type: 'noop', state: 'queued', attempts: 0, deaths: 0, enqueuedAt: Date.now() };
}

test('1,000 waiters: each change looks up only the records that became final since the last look', async () => {
  const database = SqliteDatabase.open(`${tempDataDir('final-waiters')}/gaffer.db`).retain();
  after(() => database.release());
  const tasks = taskRecordOperations(database.db);
  const ids = Array.from({ length: 1000 }, (_, i) => `task-${i}`);
  tasks.insert(ids.map(queued), Date.now());

  // Count what the waiters ask the database for: the records they look up by id.
  let lookedUp = 0;
  const counted = { ...tasks, getFinal: (wanted: readonly string[]) => ((lookedUp += wanted.length), tasks.getFinal(wanted)) };
  const waiters = new FinalWaiters(counted, database.changes, () => false);
  const seen: string[] = [];
  const stops = ids.map((id) => waiters.watch([id], (record) => seen.push(`${record.id}:${record.state}`)));
  after(() => stops.forEach((stop) => stop()));
  await waitFor(() => lookedUp === 1000, 'the first look of every waiter', 5000);

  for (let round = 0; round < 10; round++) {
    const finishing = ids.slice(round * 3, round * 3 + 3);
    tasks.update(finishing.map((id) => ({ id, queue: 'default', type: 'noop', state: 'succeeded', finishedAt: Date.now() })), Date.now());
    database.changes.notifyLocal('store');
    await waitFor(() => seen.length === (round + 1) * 3, `round ${round}: three results`, 5000);
  }
  assert.equal(lookedUp, 1000 + 30, 'after the first looks, 3 records a change, not the 997 still pending');
  assert.deepEqual(seen.sort(), ids.slice(0, 30).map((id) => `${id}:succeeded`).sort());
});

test('once the last watched record is delivered, the waiters drop their subscription, so a waiting process can exit', async () => {
  const database = SqliteDatabase.open(`${tempDataDir('final-waiters')}/gaffer.db`).retain();
  after(() => database.release());
  const tasks = taskRecordOperations(database.db);
  tasks.insert([queued('only')], Date.now());
  let subscribed = 0;
  const subscribe = database.changes.subscribe.bind(database.changes);
  database.changes.subscribe = (topic, listener) => {
    subscribed++;
    const unsubscribe = subscribe(topic, listener);
    return () => {
      subscribed--;
      unsubscribe();
    };
  };
  const waiters = new FinalWaiters(tasks, database.changes, () => false);
  const seen: string[] = [];
  waiters.watch(['only'], (record) => seen.push(record.state));
  assert.equal(subscribed, 1);
  tasks.update([{ id: 'only', queue: 'default', type: 'noop', state: 'succeeded', finishedAt: Date.now() }], Date.now());
  database.changes.notifyLocal('store');
  await waitFor(() => seen.length === 1, 'the result', 5000);
  assert.equal(subscribed, 0);
});
