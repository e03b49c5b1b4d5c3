import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PoolSettingsInput } from '../../src/index.js';
import { LOOKAHEAD_MAX_PAYLOAD } from '../../src/runtime/pool/lookahead.js';
import { startPool } from '../support/pool-harness.js';
import { waitFor } from '../support/temp-data.js';

/**
 * With short tasks, a busy worker is sent the tasks it runs next, as many as
 * cover the pool's lookaheadMs of their mean run time. An idle worker that
 * finds the queue empty asks such tasks back; a worker can only answer once
 * its handler yields, so behind a synchronous long task only that lookahead
 * waits.
 */
async function lookaheadPool(settings: PoolSettingsInput) {
  const harness = await startPool({ min: 2, max: 2, ...settings });
  const { client } = harness;

  async function teachShortTasks(): Promise<void> {
    const warmup = await client.enqueueMany(Array.from({ length: 30 }, () => ({ type: 'spin' as const, payload: { ms: 2 } })));
    await Promise.all(warmup.map((handle) => handle.result({ timeoutMs: 10_000 })));
  }

  /** How long after their enqueue short tasks were done, behind a long one. */
  async function shortsBehind(long: { type: 'nap' | 'spin'; ms: number }): Promise<number[]> {
    await teachShortTasks();
    const longHandle = await client.enqueue(long.type, { ms: long.ms });
    const shorts = await client.enqueueMany(Array.from({ length: 6 }, () => ({ type: 'spin' as const, payload: { ms: 5 } })));
    const startedAt = Date.now();
    const doneAfter = await Promise.all(shorts.map(async (handle) => (await handle.result({ timeoutMs: 10_000 }), Date.now() - startedAt)));
    await longHandle.result({ timeoutMs: 10_000 });
    return doneAfter;
  }

  return { harness, shortsBehind };
}

describe('lookahead', async () => {
  const { harness, shortsBehind } = await lookaheadPool({ lookaheadMs: 5 });

  test('behind an asynchronous long task, waiting tasks are taken back at once by the idle worker', async () => {
    const doneAfter = await shortsBehind({ type: 'nap', ms: 1500 });
    assert.ok(Math.max(...doneAfter) < 1000, `short tasks done after ${doneAfter.join(', ')} ms`);
  });

  test('behind a synchronous long task, at most its 5 ms of lookahead waits (two tasks of 2 ms or more)', async () => {
    const doneAfter = await shortsBehind({ type: 'spin', ms: 1500 });
    const waited = doneAfter.filter((ms) => ms >= 1000);
    assert.ok(waited.length <= 2, `short tasks done after ${doneAfter.join(', ')} ms`);
    assert.ok(harness.finished.every((event) => event.state === 'succeeded'));
  });
});

describe('lookahead turned off (lookaheadMs 0)', async () => {
  const { harness, shortsBehind } = await lookaheadPool({ lookaheadMs: 0 });

  test('no task waits behind a synchronous long task: a task goes only to an idle worker', async () => {
    const doneAfter = await shortsBehind({ type: 'spin', ms: 1500 });
    assert.ok(Math.max(...doneAfter) < 1000, `short tasks done after ${doneAfter.join(', ')} ms`);
    assert.ok(harness.finished.every((event) => event.state === 'succeeded'));
  });
});

describe('deep lookahead of very short tasks', async () => {
  const { pool, client, finished } = await startPool({ min: 2, max: 2 });

  test('every task of a burst of no-ops runs exactly once, and both workers share them', async () => {
    const handles = await client.enqueueMany(Array.from({ length: 3000 }, () => ({ type: 'noop' as const, payload: null })));
    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 30_000 })));
    // A result is readable once recorded; the pool's event follows the ack.
    await waitFor(() => finished.length >= handles.length, 'every task-finished event');
    const runs = new Map<string, number>();
    for (const event of finished) runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
    for (const handle of handles) assert.equal(runs.get(handle.id), 1, `task ${handle.id} ran ${runs.get(handle.id) ?? 0} times`);
    const byWorker = new Map<number, number>();
    for (const event of finished) byWorker.set(event.pid, (byWorker.get(event.pid) ?? 0) + 1);
    assert.equal(byWorker.size, 2, `tasks per worker: ${JSON.stringify([...byWorker])}`);
    for (const count of byWorker.values()) assert.ok(count > 300, `tasks per worker: ${JSON.stringify([...byWorker])}`);
    assert.equal(pool.snapshot().workers.length, 2);
  });
});

describe('lookahead of quick tasks with big payloads', async () => {
  // A second of lookahead: by time alone, a busy worker would get MAX_LOOKAHEAD of these tasks on any machine.
  const { client } = await startPool({ min: 2, max: 2, lookaheadMs: 1000 });

  test('behind a synchronous long task, only the few that fit the payload bound wait', async () => {
    const big = 'x'.repeat(900_000);
    // Quick tasks on average, with big payloads.
    const warmup = await client.enqueueMany(Array.from({ length: 30 }, () => ({ type: 'noop' as const, payload: big })));
    await Promise.all(warmup.map((handle) => handle.result({ timeoutMs: 20_000 })));
    // Long enough that the other worker runs every quick task that does not wait behind it, even on a slow machine.
    const long = await client.enqueue('spin', { ms: 3000 });
    await waitFor(async () => (await long.status()).state === 'running', 'the long task to start');
    const quick = await client.enqueueMany(Array.from({ length: 20 }, () => ({ type: 'noop' as const, payload: big })));
    await Promise.all(quick.map((handle) => handle.result({ timeoutMs: 20_000 })));
    await long.result({ timeoutMs: 10_000 });
    // The ones that waited in the long task's lookahead ran after it: 4 MiB of payload ahead is four tasks of 900 kB.
    const longEnd = (await long.status()).finishedAt!;
    const finishedAt = await Promise.all(quick.map(async (handle) => (await handle.status()).finishedAt! - longEnd));
    const waited = finishedAt.filter((ms) => ms >= 0);
    assert.ok(waited.length <= Math.floor(LOOKAHEAD_MAX_PAYLOAD / 900_000), `quick tasks done at ${finishedAt.join(', ')} ms from the long task's end`);
  });
});
