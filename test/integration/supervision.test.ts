import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { TaskFailedError } from '../../src/core/errors.js';
import { isAlive, startPool, waitForExit } from '../support/pool-harness.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

describe('supervision of worker processes', async () => {
  const harness = await startPool({ min: 2, restartBackoff: { baseMs: 300, maxMs: 1000 } });
  const { client, pool } = harness;

  test('kill -9 of a worker in the middle of a task: the task runs again elsewhere and the death is counted', async () => {
    const started = new Promise<number>((resolve) => pool.once('task-started', ({ pid }) => resolve(pid)));
    const handle = await client.enqueue('spin', { ms: 1500 });
    const victim = await started;
    process.kill(victim, 'SIGKILL');
    await waitForExit(victim, 'the killed worker to be gone');
    const ranOn = await handle.result({ timeoutMs: 15_000 });
    assert.notEqual(ranOn, victim, 'the retry ran in another worker');
    const record = await handle.status();
    assert.equal(record.state, 'succeeded');
    assert.equal(record.deaths, 1);
    assert.equal(record.attempts, 0, 'a death is not a failed attempt');
    await waitFor(() => pool.snapshot().workers.length === 2, 'the pool to be back at its minimum of 2 workers');
  });

  test('a poison task that crashes every worker is quarantined after maxCrashes, with exit code and stderr', async () => {
    const handle = await client.enqueue('poison', { say: 'segfault imminent' });
    const error = await handle.result({ timeoutMs: 20_000 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.reason.kind, 'crashed');
    if (error.reason.kind !== 'crashed') return;
    assert.equal(error.reason.deaths, 3);
    assert.equal(error.reason.exitCode, 3);
    assert.match(error.reason.stderrTail, /segfault imminent/);
    const letter = await harness.backend.broker.getDead(handle.id);
    assert.equal(letter?.reason.kind, 'crashed');
    assert.equal(letter?.deaths, 3);
    // The pool is still serving.
    assert.equal(await (await client.enqueue('add', { a: 2, b: 3 })).result({ timeoutMs: 15_000 }), 5);
  });

  test('a task over its time limit has its worker killed and fails with timeout', async () => {
    const started = new Promise<number>((resolve) => pool.once('task-started', ({ pid }) => resolve(pid)));
    const handle = await client.enqueue('hang', {});
    const worker = await started;
    const error = await handle.result({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.reason.kind, 'timeout');
    assert.equal((await handle.status()).error?.code, 'timeout');
    await waitForExit(worker, 'the overrunning worker to be killed');
    assert.equal(isAlive(worker), false);
  });
});

describe('a crash loop', async () => {
  test('workers that cannot start are restarted with growing delays, not in a tight loop, and the pool recovers', async () => {
    const marker = path.join(tempDataDir('marker'), 'broken');
    process.env.GAFFER_TEST_BREAK_MARKER = marker;
    const tasks = fileURLToPath(new URL('../fixtures/breakable-tasks.js', import.meta.url));
    const harness = await startPool({ min: 1, max: 1, restartBackoff: { baseMs: 200, maxMs: 800 }, stableUptimeMs: 1000 }, { tasks });
    const starts: number[] = [];
    const crashes: number[] = [];
    harness.pool.on('worker-started', ({ at }) => starts.push(at));
    harness.pool.on('worker-exited', ({ cause }) => cause === 'crashed' && crashes.push(Date.now()));
    fs.writeFileSync(marker, 'broken');
    const [worker] = harness.pool.snapshot().workers;
    process.kill(worker!.pid, 'SIGKILL');
    // Each failed start takes a worker's boot, seconds on a slow machine: wait for three, however long they take.
    await waitFor(() => starts.length >= 3, 'three restarts of the broken worker', 20_000);
    // Each restart waits out the backoff of the crash streak before it: none after the first crash, then 200 ms, then 400.
    const waits = starts.slice(0, 3).map((at, i) => at - crashes[i]!);
    assert.ok(waits[1]! >= 190 && waits[2]! >= 390, `restarts came ${waits.join(', ')} ms after their crashes`);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    assert.ok(gaps.slice(1).every((gap) => gap >= 150), `gaps grow: ${gaps.join(', ')} ms`);
    fs.rmSync(marker);
    await waitFor(() => harness.pool.snapshot().workers.some((w) => w.state === 'idle'), 'a worker to start again', 5000);
    assert.equal(await (await harness.client.enqueue('ping' as never, {} as never)).result({ timeoutMs: 5000 }), 'pong');
    delete process.env.GAFFER_TEST_BREAK_MARKER;
  });
});
