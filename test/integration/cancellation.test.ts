import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { RaceLostError, TaskCancelledError } from '../../src/core/errors.js';
import { isAlive, startPool, waitForExit } from '../support/pool-harness.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

describe('cancellation and race groups', async () => {
  const harness = await startPool({ min: 2, cancelGraceMs: 100 });
  const { client, pool } = harness;
  const nextStart = () => new Promise<{ id: string; pid: number }>((resolve) => pool.once('task-started', resolve));
  const runsOf = (id: string) => harness.finished.filter((event) => event.id === id);

  test('a cancelled queued task never runs', async () => {
    const blockers = await client.enqueueMany([
      { type: 'spin', payload: { ms: 600 } },
      { type: 'spin', payload: { ms: 600 } },
    ]);
    const queued = await client.enqueue('add', { a: 1, b: 1 });
    assert.deepEqual((await queued.cancel()).outcome, 'cancelled');
    await assert.rejects(queued.result({ timeoutMs: 5000 }), TaskCancelledError);
    await Promise.all(blockers.map((handle) => handle.result({ timeoutMs: 10_000 })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(runsOf(queued.id).length, 0);
    assert.equal((await queued.status()).state, 'cancelled');
  });

  test('a running task sees its signal abort, ends as cancelled, is not retried, and keeps its worker', async () => {
    const started = nextStart();
    const handle = await client.enqueue('cooperative', { ms: 5000 });
    const { pid } = await started;
    const cancelledAt = Date.now();
    assert.equal((await handle.cancel()).outcome, 'stopping');
    await assert.rejects(handle.result({ timeoutMs: 5000 }), TaskCancelledError);
    assert.ok(Date.now() - cancelledAt < 1000);
    await waitFor(() => runsOf(handle.id).length === 1, 'the cancellation to be acked');
    assert.equal(runsOf(handle.id)[0]!.state, 'cancelled');
    assert.ok(isAlive(pid), 'a handler that stops on its signal keeps its worker');
  });

  test('a handler that ignores its signal has its worker killed after the grace period', async () => {
    const started = nextStart();
    const handle = await client.enqueue('stubborn', { ms: 4000 });
    const { pid } = await started;
    await handle.cancel();
    await assert.rejects(handle.result({ timeoutMs: 5000 }), TaskCancelledError);
    await waitForExit(pid, 'the stubborn worker to be killed', 2000);
    assert.equal((await handle.status()).state, 'cancelled');
    await waitFor(() => pool.snapshot().workers.length === 2, 'a replacement worker');
  });

  test('a group is cancelled at once, queued and running members alike', async () => {
    const handles = await client.enqueueMany(
      [0, 1, 2, 3].map(() => ({ type: 'cooperative' as const, payload: { ms: 5000 }, options: { group: 'nightly-report' } })),
    );
    await waitFor(() => pool.snapshot().workers.filter((w) => w.state === 'busy').length === 2, 'two members to run');
    const results = await client.cancelGroup('nightly-report');
    assert.deepEqual(results.map((r) => r.outcome).sort(), ['cancelled', 'cancelled', 'stopping', 'stopping']);
    for (const handle of handles) await assert.rejects(handle.result({ timeoutMs: 5000 }), TaskCancelledError);
  });

  test('a race resolves with the first result and the running losers stop within 100 ms', async () => {
    const log = path.join(tempDataDir('race'), 'runs.log');
    let wonAt = 0;
    const watchWin = (event: { result?: unknown }) => {
      if (event.result === 'found it') wonAt = Date.now();
    };
    pool.on('task-finished', watchWin);
    const winner = await client.race([
      { type: 'cooperative', payload: { ms: 5000, file: log } },
      { type: 'echo', payload: { value: 'found it' } },
      { type: 'cooperative', payload: { ms: 5000, file: log } },
      { type: 'cooperative', payload: { ms: 5000, file: log } },
    ]);
    pool.off('task-finished', watchWin);
    assert.equal(winner.result, 'found it');
    await waitFor(() => harness.finished.filter((e) => e.group === winner.group).length >= 2, 'the losers to settle');
    const stops = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('stopped'))
      .map((line) => Number(line.split(' ')[2]));
    assert.ok(stops.length >= 1, 'the loser that had started was stopped');
    for (const stoppedAt of stops) assert.ok(stoppedAt - wonAt < 100, `a loser stopped ${stoppedAt - wonAt} ms after the win`);
    const members = await client.store.getTasks(harness.finished.filter((e) => e.group === winner.group).map((e) => e.id));
    assert.ok(members.filter((m) => m.id !== winner.id).every((m) => m.state === 'cancelled'));
  });

  test('a race where no member finds anything rejects with RaceLostError', async () => {
    const race = client.race([
      { type: 'echo', payload: { value: null } },
      { type: 'echo', payload: { value: null } },
    ]);
    await assert.rejects(race, (error: unknown) => error instanceof RaceLostError && error.outcomes.length === 2);
  });
});
