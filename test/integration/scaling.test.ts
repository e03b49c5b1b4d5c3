import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Broker } from '../../src/ports/broker.js';
import { startPool } from '../support/pool-harness.js';
import { sleep, waitFor } from '../support/temp-data.js';

describe('scaling', async () => {
  test('a burst on an empty pool busies every core at once, then the pool scales to zero and back', async () => {
    const harness = await startPool({ min: 0, max: 2, scaleDownWindowMs: 500 });
    const { pool, client } = harness;
    await waitFor(() => pool.snapshot().workers.length === 0, 'the pool to retire its first worker (min 0)');

    const busyPids = new Set<number>();
    pool.on('task-started', ({ pid }) => busyPids.add(pid));
    const burstAt = Date.now();
    const handles = await client.enqueueMany(Array.from({ length: 20 }, () => ({ type: 'spin' as const, payload: { ms: 50 } })));
    await waitFor(() => busyPids.size === 2, 'both cores to be busy', 5000);
    const busyAfterMs = Date.now() - burstAt;
    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 10_000 })));

    await waitFor(() => pool.snapshot().workers.length === 0, 'the pool to scale back to zero', 5000);
    const decisions = await harness.backend.store.listDecisions({ limit: 10, poolId: pool.id });
    const up = decisions.find((d) => d.to === 2);
    const down = decisions.find((d) => d.to === 0 && d.at > burstAt);
    assert.ok(up, 'the burst was recorded as a decision');
    assert.match(up.reason, /backlog|at_max/);
    assert.ok(up.observation.ready > 0, 'with the observation that led to it');
    assert.ok(down, 'the scale-down was recorded');
    assert.equal(down.reason, 'idle');
    assert.ok(down.at - Math.max(...harness.finished.map((e) => e.startedAt ?? 0)) >= 400, 'only after the stabilization window');

    const back = await (await client.enqueue('add', { a: 20, b: 22 })).result({ timeoutMs: 10_000 });
    assert.equal(back, 42, 'the next task brings a worker back');
    // A generous bound: this checks "at once", the benchmark measures how fast.
    assert.ok(busyAfterMs < 3000, `both cores busy ${busyAfterMs} ms after the burst`);
  });

  /** Counts the pool's looks at its queue (each one a broker.stats call). */
  function countLooks(broker: Broker): number[] {
    const looks: number[] = [];
    const stats = broker.stats.bind(broker);
    broker.stats = (queues) => {
      looks.push(Date.now());
      return stats(queues);
    };
    return looks;
  }

  test('a quiet pool looks at its queue once a second, and at every tick again once a task waits for its time', async () => {
    const { backend, client } = await startPool({ min: 1, max: 1 });
    const looks = countLooks(backend.broker);
    await sleep(1500);
    assert.ok(looks.length <= 3, `${looks.length} looks in 1.5 s with nothing to do (a tick is 100 ms)`);

    // The enqueue is news: the next tick looks, sees a delayed task, and the pool is no longer quiet.
    const delayed = await client.enqueue('add', { a: 1, b: 2 }, { delayMs: 1500 });
    const before = looks.length;
    await sleep(800);
    assert.ok(looks.length - before >= 4, `${looks.length - before} looks in 800 ms while a task waits for its time`);
    assert.equal(await delayed.result({ timeoutMs: 10_000 }), 3);
  });

  test('a pool at its max with every worker busy counts its queue once a second, however long the queue, and still runs it all', async () => {
    const { backend, client } = await startPool({ min: 2, max: 2 });
    const looks = countLooks(backend.broker);
    const handles = await client.enqueueMany(Array.from({ length: 60 }, () => ({ type: 'spin' as const, payload: { ms: 50 } })));
    await sleep(1200);
    assert.ok(looks.length <= 3, `${looks.length} counts in 1.2 s at its max, every worker busy (a tick is 100 ms)`);
    const results = await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 15_000 })));
    assert.equal(results.length, 60);
  });

  test('an idle worker is retired by the policy, never a busy one', async () => {
    const harness = await startPool({ min: 0, max: 2, scaleDownWindowMs: 200 });
    const exits: string[] = [];
    harness.pool.on('worker-exited', ({ cause }) => exits.push(cause));
    const long = await harness.client.enqueue('spin', { ms: 1500 });
    await harness.client.enqueue('spin', { ms: 10 });
    await long.result({ timeoutMs: 10_000 });
    assert.equal((await long.status()).deaths, 0);
    assert.ok(exits.every((cause) => cause === 'retired'));
  });
});
