import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startPool } from '../support/pool-harness.js';

/**
 * With short tasks, a busy worker is sent its next task ahead of time. An
 * idle worker that finds the queue empty asks such a task back; a worker can
 * only answer once its handler yields, so behind a synchronous long task at
 * most that one task waits.
 */
describe('lookahead of one task', async () => {
  const harness = await startPool({ min: 2, max: 2 });
  const { client } = harness;

  async function teachShortTasks(): Promise<void> {
    const warmup = await client.enqueueMany(Array.from({ length: 30 }, () => ({ type: 'spin' as const, payload: { ms: 2 } })));
    await Promise.all(warmup.map((handle) => handle.result({ timeoutMs: 10_000 })));
  }

  async function shortsBehind(long: { type: 'nap' | 'spin'; ms: number }): Promise<number[]> {
    await teachShortTasks();
    const longHandle = await client.enqueue(long.type, { ms: long.ms });
    const shorts = await client.enqueueMany(Array.from({ length: 6 }, () => ({ type: 'spin' as const, payload: { ms: 5 } })));
    const startedAt = Date.now();
    const doneAfter = await Promise.all(shorts.map(async (handle) => (await handle.result({ timeoutMs: 10_000 }), Date.now() - startedAt)));
    await longHandle.result({ timeoutMs: 10_000 });
    return doneAfter;
  }

  test('behind an asynchronous long task, a waiting task is taken back at once by the idle worker', async () => {
    const doneAfter = await shortsBehind({ type: 'nap', ms: 1500 });
    assert.ok(Math.max(...doneAfter) < 1000, `short tasks done after ${doneAfter.join(', ')} ms`);
  });

  test('behind a synchronous long task, at most one task waits for it, never more', async () => {
    const doneAfter = await shortsBehind({ type: 'spin', ms: 1500 });
    const waited = doneAfter.filter((ms) => ms >= 1000);
    assert.ok(waited.length <= 1, `short tasks done after ${doneAfter.join(', ')} ms`);
    assert.ok(harness.finished.every((event) => event.state === 'succeeded'));
  });
});
