import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Ledger } from '../../src/adapters/rabbitmq/ledger/ledger.js';
import { RUNNING_COUNT_GRACE_MS, runningCountKeys } from '../../src/adapters/rabbitmq/ledger/scripts/running-counts.js';
import type { TaskEnvelope } from '../../src/core/envelope.js';
import { redisService, skipUnlessReachable } from '../support/services.js';

/**
 * The RabbitMQ broker's ledger counts the tasks each pool runs, per queue,
 * instead of listing them (see RUNNING_COUNTS). These tests follow the counts
 * through every step that starts or ends a run, on Redis itself, with the
 * clock passed in: a pool taking over another's task, ends, a requeue, leases
 * that run out, and a Redis that forgot everything.
 */
const redis = redisService();
const skip = await skipUnlessReachable([redis]);

describe("the ledger's running counts", { skip }, () => {
  const prefix = `gaffer-test:running-${randomUUID().slice(0, 8)}:`;
  const queue = 'counted';
  const LEASE_MS = 30_000;
  const T = 1_800_000_000_000;
  const ledger = new Ledger(redis.url, prefix);
  const admin = new Redis(redis.url);
  after(async () => {
    await ledger.close();
    for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length > 0) await admin.del(...(keys as string[]));
    }
    await admin.quit();
  });

  const envelope = (): TaskEnvelope => ({ id: `run-${randomUUID().slice(0, 8)}`, queue, type: 'count', payload: '{}', enqueuedAt: T });
  const running = async (now: number) => (await ledger.counts([queue], now))[0]!.running;
  const countsByPool = () => admin.hgetall(runningCountKeys(prefix, queue).counts);

  test('claims, a takeover, an end and a requeue move the counts; a pool counts only while its lease lasts', async () => {
    const tasks = [envelope(), envelope(), envelope()];
    await ledger.register(tasks);
    await ledger.markQueued(tasks);
    const items = tasks.map((task) => ({ envelope: task, generation: 0 }));
    assert.deepEqual(await ledger.claim(items, 'pool-a', LEASE_MS, T), ['run', 'run', 'run']);
    assert.equal(await running(T), 3);
    assert.deepEqual(await countsByPool(), { 'pool-a': '3' }, 'one count for the pool, not an entry per task');

    // Its connection died and RabbitMQ gave the first task to another pool.
    assert.deepEqual(await ledger.claim(items.slice(0, 1), 'pool-b', LEASE_MS, T + 1000), ['run']);
    assert.deepEqual(await countsByPool(), { 'pool-a': '2', 'pool-b': '1' });
    assert.equal(await running(T + 1000), 3);

    assert.equal(await ledger.finish(tasks[0]!, 'done', 'pool-a', 0), false, 'the pool that lost the task cannot end it');
    assert.equal(await ledger.finish(tasks[0]!, 'done', 'pool-b', 0), true);
    assert.equal(await ledger.requeue(tasks[1]!, 'pool-a', 0, 1, 0), true);
    assert.deepEqual(await countsByPool(), { 'pool-a': '1', 'pool-b': '0' });
    assert.equal(await running(T + 1000), 1);

    // pool-a's lease ran out (it died): its last task no longer counts, though its count stays until a renewal cleans up.
    assert.equal(await running(T + LEASE_MS + 1), 0);
  });

  test("a renewal writes back what Redis forgot, and deletes the counts of pools whose lease ended long ago", async () => {
    const [task] = [envelope()];
    await ledger.register([task!]);
    await ledger.markQueued([task!]);
    const item = { envelope: task!, generation: 0 };
    const later = T + 2 * LEASE_MS + RUNNING_COUNT_GRACE_MS;
    assert.deepEqual(await ledger.claim([item], 'pool-c', LEASE_MS, later), ['run']);

    // Redis restarted empty: the task's state and every count are gone, while pool-c runs on.
    await admin.del(`${prefix}task:${task!.id}`, runningCountKeys(prefix, queue).counts);
    assert.equal(await running(later), 0);
    await ledger.renew([item], 'pool-c', LEASE_MS, later);
    assert.deepEqual(await countsByPool(), { 'pool-c': '1' }, 'written back; pool-a and pool-b, whose leases ended long ago, are gone');
    assert.deepEqual(Object.keys(await admin.hgetall(runningCountKeys(prefix, queue).leases)), ['pool-c']);
    assert.equal(await running(later), 1);
  });
});
