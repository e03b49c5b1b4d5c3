import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startPool } from '../support/pool-harness.js';
import { waitFor } from '../support/temp-data.js';

describe('idempotent enqueue', async () => {
  const harness = await startPool();
  const { client } = harness;

  test('enqueueing an existing id again runs nothing more and follows the first task', async () => {
    const first = await client.enqueue('echo', { value: 'first' }, { id: 'order-1042' });
    const again = await client.enqueue('echo', { value: 'second' }, { id: 'order-1042' });
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(await again.result({ timeoutMs: 10_000 }), 'first');
    // After it finished too: the id stays taken for the retention period.
    const later = await client.enqueue('echo', { value: 'third' }, { id: 'order-1042' });
    assert.equal(later.created, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(harness.finished.filter((event) => event.id === 'order-1042').length, 1);
  });

  test('a batch with a repeated id enqueues it once', async () => {
    const handles = await client.enqueueMany([
      { type: 'echo', payload: { value: 1 }, options: { id: 'batch-dup' } },
      { type: 'echo', payload: { value: 2 }, options: { id: 'batch-dup' } },
    ]);
    assert.deepEqual(handles.map((handle) => handle.created), [true, false]);
    assert.equal(await handles[1]!.result({ timeoutMs: 10_000 }), 1);
    await waitFor(() => harness.finished.some((event) => event.id === 'batch-dup'), 'the task to finish');
    assert.equal(harness.finished.filter((event) => event.id === 'batch-dup').length, 1);
  });
});
