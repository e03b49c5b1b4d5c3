import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openBackend } from '../../src/adapters/open-backend.js';
import { RecordReads } from '../../src/client/record-reads.js';
import { waitForFinal } from '../../src/client/task-handle.js';
import { TaskNotFoundError } from '../../src/core/errors.js';
import type { TaskRecord } from '../../src/core/task-record.js';
import { tempDataDir } from '../support/temp-data.js';

function queued(id: string): TaskRecord {
  return { id, queue: 'default', type: 'noop', state: 'queued', attempts: 0, deaths: 0, enqueuedAt: Date.now() };
}

test('the record reads of one turn go to the store as one getTasks call, each caller getting its own record', async () => {
  const backend = openBackend({ data: tempDataDir('record-reads') });
  after(() => backend.close());
  const ids = Array.from({ length: 1500 }, (_, i) => `task-${i}`);
  await backend.store.recordEnqueued(ids.map(queued));

  const calls: number[] = [];
  const store = backend.store;
  const getTasks = store.getTasks.bind(store);
  store.getTasks = (wanted) => (calls.push(wanted.length), getTasks(wanted));
  const reads = new RecordReads(store);

  const records = await Promise.all([...ids, 'no-such-task', ids[0]!].map((id) => reads.get(id)));
  assert.deepEqual(calls, [1000, 502], 'one call per 1,000 ids, not one a read');
  assert.deepEqual(
    records.slice(0, ids.length).map((record) => record?.id),
    ids,
  );
  assert.equal(records[ids.length], undefined, 'an unknown id reads as undefined');
  assert.equal(records[ids.length + 1]?.id, ids[0], 'an id asked twice gets its record twice');
});

test('waiting for a task the store does not know fails at once with TaskNotFoundError', async () => {
  const backend = openBackend({ data: tempDataDir('record-reads') });
  after(() => backend.close());
  await assert.rejects(waitForFinal(backend.store, 'never-enqueued'), TaskNotFoundError);
});
