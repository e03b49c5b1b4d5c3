import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GafferClient } from '../../src/client/client.js';
import type { FixtureClient } from '../support/pool-harness.js';
import { startPool } from '../support/pool-harness.js';

describe('two connections to one database in one process', async () => {
  test('a client of its own beside a pool (group commit) neither deadlocks nor waits for the lock timeout', async () => {
    const harness = await startPool({ min: 1, max: 1 });
    // Not the pool's backend: a second connection, as a script that also runs a pool would open.
    const client: FixtureClient = new GafferClient({ data: harness.data });
    try {
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => (await client.enqueue('add', { a: i, b: 1 })).result({ timeoutMs: 10_000 })),
      );
      assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => i + 1));
      assert.ok(Date.now() - started < 5000, 'far below the 10 s lock timeout');
    } finally {
      await client.close();
    }
  });
});
