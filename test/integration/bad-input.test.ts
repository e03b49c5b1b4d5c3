import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MAX_PAYLOAD_BYTES, type TaskEnvelope } from '../../src/core/envelope.js';
import { newTaskId } from '../../src/core/ids.js';
import { queuedRecordFor } from '../../src/core/task-record.js';
import { waitForFinal } from '../../src/client/task-handle.js';
import { startPool } from '../support/pool-harness.js';

/**
 * Producers in other languages can put anything on a queue. Each kind of bad
 * input must be dead-lettered at once, with its reason, while the pool and
 * its workers go on.
 */
describe('bad input', async () => {
  const harness = await startPool({ max: 1, min: 1 });
  const { backend, client } = harness;

  /** Enqueues a raw envelope, as a producer that skips the client's checks would. */
  async function enqueueRaw(type: string, payload: string): Promise<string> {
    const envelope: TaskEnvelope = { id: newTaskId(), queue: 'default', type, payload, enqueuedAt: Date.now() };
    await backend.broker.enqueue([envelope]);
    await backend.store.recordEnqueued([queuedRecordFor(envelope)]);
    return envelope.id;
  }

  const cases = [
    { name: 'a payload that is not JSON', type: 'add', payload: '{"a": 1, b: 2', code: 'not_json' },
    { name: 'an unknown task type', type: 'resize-image', payload: '{}', code: 'unknown_type' },
    { name: 'a payload that fails the schema', type: 'add', payload: '{"a": 1, "b": "two"}', code: 'schema' },
    { name: 'an oversize payload', type: 'echo', payload: JSON.stringify({ value: 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES) }), code: 'oversize' },
  ];

  for (const { name, type, payload, code } of cases) {
    test(`${name} is dead-lettered at once with the reason "${code}"`, async () => {
      const pidBefore = harness.pool.snapshot().workers[0]?.pid;
      const id = await enqueueRaw(type, payload);
      const record = await waitForFinal(backend.store, id, { timeoutMs: 10_000 });
      assert.equal(record.state, 'dead');
      assert.equal(record.deadReason?.kind, 'bad_input');
      assert.equal(record.deadReason.kind === 'bad_input' && record.deadReason.code, code);
      assert.equal(record.attempts, 0, 'bad input is not retried');
      const letter = await backend.broker.getDead(id);
      assert.equal(letter?.reason.kind, 'bad_input');
      // The same worker is still there, and still works.
      assert.equal(harness.pool.snapshot().workers[0]?.pid, pidBefore);
      assert.equal(await (await client.enqueue('add', { a: 1, b: 1 })).result({ timeoutMs: 10_000 }), 2);
    });
  }
});
