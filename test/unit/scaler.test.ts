import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { parsePoolSettings } from '../../src/core/pool-settings.js';
import type { Broker, QueueStats } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import { RecentMean } from '../../src/runtime/pool/load-meters.js';
import type { RestartGate } from '../../src/runtime/pool/restart-gate.js';
import { Scaler } from '../../src/runtime/pool/scaler.js';
import type { WorkerSet } from '../../src/runtime/pool/worker-set.js';

/*
 * News (a task enqueued, a task delivered) asks the scaler to evaluate soon.
 * While a pool is busy, its evaluations keep a minimum gap, so a stream of
 * news does not become a stream of queue counts. A quiet pool's first news is
 * how a burst begins: it must not wait out the gap behind the tick that just
 * found the queue empty.
 */

function setUp() {
  let now = 1_000_000;
  let ready = 0;
  const counts: number[] = [];
  const broker = {
    stats: async (queues: readonly string[]): Promise<QueueStats[]> => {
      counts.push(now);
      return queues.map((queue) => ({ queue, ready, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: ready }));
    },
  } as unknown as Broker;
  const store = { recordDecision: async () => {} } as unknown as Store;
  let live = 0;
  const workers = { liveCount: () => live, busyCount: () => 0, idle: () => [], retire: () => {} } as unknown as WorkerSet;
  const gate = { waitMs: () => 0, crashStreak: 0 } as unknown as RestartGate;
  const started: number[] = [];
  const scaler = new Scaler({
    broker,
    store,
    workers,
    gate,
    serviceTimes: new RecentMean(),
    settings: parsePoolSettings({ min: 0, max: 2 }, 2),
    poolId: 'pool-1',
    clock: { now: () => now },
    events: new EventEmitter(),
    logger: silentLogger,
    startWorker: () => {
      started.push(now);
      live++;
    },
  });
  return {
    scaler,
    counts,
    started,
    advance: (ms: number) => (now += ms),
    enqueue: (tasks: number) => (ready += tasks),
  };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test("a quiet pool's first news is evaluated at once, though the tick evaluated a moment ago", async () => {
  const { scaler, counts, started, advance, enqueue } = setUp();
  await scaler.evaluate(); // the tick: nothing queued, nothing running
  assert.equal(scaler.quiet(), true);
  advance(2);
  enqueue(50);
  scaler.evaluateSoon();
  await settled();
  assert.equal(counts.length, 2, 'the news was counted at once');
  assert.equal(started.length, 2, 'both workers started on the burst');
  scaler.disable();
});

test('while the pool is not quiet, news keeps the minimum gap between evaluations', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { scaler, counts, advance, enqueue } = setUp();
  enqueue(50);
  await scaler.evaluate();
  assert.equal(scaler.quiet(), false);
  advance(2);
  scaler.evaluateSoon();
  scaler.evaluateSoon();
  await settled();
  assert.equal(counts.length, 1, 'the news waits for the gap');
  advance(18);
  t.mock.timers.tick(18);
  await settled();
  assert.equal(counts.length, 2, 'one evaluation once the gap is over, for all the news meanwhile');
  scaler.disable();
});
