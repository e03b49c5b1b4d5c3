import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { openBackend } from '../../src/adapters/open-backend.js';
import { GafferClient } from '../../src/client/client.js';
import type { PoolSnapshot } from '../../src/ports/store.js';
import { isAlive, startCliPool, type FixtureClient } from '../support/pool-harness.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

async function livePool(client: FixtureClient): Promise<PoolSnapshot | undefined> {
  return (await client.store.listPools())[0];
}

describe('drain on SIGTERM', async () => {
  test('running tasks finish, queued ones stay queued, the process exits 0 and leaves no worker behind', async () => {
    const data = tempDataDir('drain');
    const backend = openBackend({ data });
    const client: FixtureClient = new GafferClient({ backend });
    const { child } = startCliPool(['--data', data, '--min', '2', '--max', '2', '--drain-grace', '10s']);
    await waitFor(async () => (await livePool(client))?.workers.filter((w) => w.state === 'idle').length === 2, 'two idle workers');
    const running = await client.enqueueMany([0, 1].map(() => ({ type: 'spin' as const, payload: { ms: 800 } })));
    await waitFor(async () => (await client.store.getTasks(running.map((h) => h.id))).every((r) => r.state === 'running'), 'both to run');
    const waiting = await client.enqueueMany([0, 1, 2].map(() => ({ type: 'add' as const, payload: { a: 1, b: 1 } })));
    const workers = (await livePool(client))!.workers.map((w) => w.pid);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    const records = await client.store.getTasks([...running, ...waiting].map((h) => h.id));
    for (const record of records.filter((r) => running.some((h) => h.id === r.id))) assert.equal(record.state, 'succeeded');
    for (const record of records.filter((r) => waiting.some((h) => h.id === r.id))) assert.ok(['queued', 'succeeded'].includes(record.state), record.state);
    const [stats] = await backend.broker.stats(['default']);
    assert.equal(stats!.running, 0, 'nothing is left leased');
    for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} is gone`);
    assert.equal(await livePool(client), undefined, 'the pool deregistered');
    await client.close();
    await backend.close();
  });

  test('tasks still running when the grace period ends go back to the queue, uncounted, and run on the next pool', async () => {
    const data = tempDataDir('drain-grace');
    const backend = openBackend({ data });
    const client: FixtureClient = new GafferClient({ backend });
    const first = startCliPool(['--data', data, '--min', '1', '--max', '1', '--drain-grace', '200ms']);
    await waitFor(async () => (await livePool(client))?.workers.some((w) => w.state === 'idle') ?? false, 'an idle worker');
    const handle = await client.enqueue('spin', { ms: 3000 });
    await waitFor(async () => (await handle.status()).state === 'running', 'the task to run');
    first.child.kill('SIGTERM');
    const [code] = await once(first.child, 'exit');
    assert.equal(code, 0);
    const returned = await handle.status();
    assert.equal(returned.state, 'queued');
    assert.equal(returned.deaths, 0, 'a drain is not a crash');

    const second = startCliPool(['--data', data, '--min', '0', '--max', '1']);
    assert.ok(typeof (await handle.result({ timeoutMs: 20_000 })) === 'number');
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    await client.close();
    await backend.close();
  });
});
