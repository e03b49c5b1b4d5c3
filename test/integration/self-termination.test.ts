import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startPool, waitForExit } from '../support/pool-harness.js';
import { sleep, waitFor } from '../support/temp-data.js';

describe('workers that leave on their own', async () => {
  test('after maxTasksPerWorker tasks a worker exits; a replacement starts only while work remains', async () => {
    const harness = await startPool({ max: 1, maxTasksPerWorker: 3 });
    const exits: Array<{ pid: number; cause: string }> = [];
    harness.pool.on('worker-exited', (event) => exits.push(event));
    const handles = await harness.client.enqueueMany([1, 2, 3, 4, 5].map(() => ({ type: 'pid' as const, payload: {} })));
    const pids = await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 15_000 })));
    assert.equal(pids[0], pids[2], 'the first three ran in one worker');
    assert.notEqual(pids[2], pids[3], 'the fourth ran in its replacement');
    await waitForExit(pids[0] as number, 'the recycled worker to exit');
    assert.ok(exits.some((exit) => exit.pid === pids[0] && exit.cause === 'retired'), 'it exited as planned, not as a crash');
    // Five tasks: the second worker ran two, so it stays; no third worker without work.
    await sleep(300);
    assert.equal(harness.workerPids.size, 2);
  });

  test('a worker idle for idleExitMs leaves, and the pool comes back for the next task', async () => {
    const harness = await startPool({ max: 1, idleExitMs: 200 });
    const first = await (await harness.client.enqueue('pid', {})).result({ timeoutMs: 10_000 });
    await waitForExit(first as number, 'the idle worker to leave');
    await waitFor(() => harness.pool.snapshot().workers.length === 0, 'the pool to reap it');
    const second = await (await harness.client.enqueue('pid', {})).result({ timeoutMs: 10_000 });
    assert.notEqual(second, first);
  });

  test('a worker over the memory limit is recycled between tasks, its task done', async () => {
    const harness = await startPool({ max: 1, memoryLimitMb: 150 });
    const bloated = await (await harness.client.enqueue('bloat', { mb: 200 })).result({ timeoutMs: 10_000 });
    await waitForExit(bloated as number, 'the bloated worker to be recycled');
    const next = await (await harness.client.enqueue('pid', {})).result({ timeoutMs: 10_000 });
    assert.notEqual(next, bloated);
  });
});
