import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { openBackend } from '../../src/adapters/open-backend.js';
import { GafferClient } from '../../src/client/client.js';
import { isAlive, startCliPool, waitForExit, type FixtureClient } from '../support/pool-harness.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

describe('kill -9 of the pool manager', async () => {
  test('its workers die with it, and its tasks run again on the next pool, not counted as crashes', async () => {
    const data = tempDataDir('manager-crash');
    const backend = openBackend({ data });
    const client: FixtureClient = new GafferClient({ backend });
    const first = startCliPool(['--data', data, '--min', '2', '--max', '2', '--lease', '60s']);
    await waitFor(async () => (await client.store.listPools())[0]?.workers.filter((w) => w.state === 'idle').length === 2, 'two idle workers');
    const handles = await client.enqueueMany([
      { type: 'spin', payload: { ms: 2000 } },
      { type: 'spin', payload: { ms: 2000 } },
      { type: 'add', payload: { a: 3, b: 4 } },
    ]);
    await waitFor(async () => (await client.store.listPools())[0]?.workers.filter((w) => w.state === 'busy').length === 2, 'both workers busy');
    const workers = (await client.store.listPools())[0]!.workers.map((w) => w.pid);

    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    // They go with it (orphaned-workers.test.ts shows that they do in the middle of a synchronous handler too).
    for (const pid of workers) await waitForExit(pid, `orphaned worker ${pid} to exit`, 3000);

    // The lease is a minute long: the next pool takes the tasks back at once because the old pool's pid is dead.
    const second = startCliPool(['--data', data, '--min', '0', '--max', '2']);
    const results = await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 20_000 })));
    assert.equal(results[2], 7);
    for (const record of await client.store.getTasks(handles.map((h) => h.id))) {
      assert.equal(record.state, 'succeeded');
      assert.equal(record.deaths, 0);
    }
    second.child.kill('SIGTERM');
    const [code] = await once(second.child, 'exit');
    assert.equal(code, 0);
    for (const pid of workers) assert.equal(isAlive(pid), false);
    await client.close();
    await backend.close();
  });
});
