import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { GafferClient } from '../../src/client/client.js';
import type { TaskEnvelope } from '../../src/core/envelope.js';
import type { Broker, Delivery } from '../../src/ports/broker.js';
import type { TaskUpdate } from '../../src/ports/store.js';
import { PoolManager } from '../../src/runtime/pool/pool-manager.js';
import { FIXTURE_TASKS, type FixtureClient } from '../support/pool-harness.js';
import { productionServices } from '../support/services.js';
import { waitFor } from '../support/temp-data.js';

/**
 * On RabbitMQ and Redis, a pool settles a finished task through the backend's
 * Settlement: its record and its end in the ledger are one Redis script, then
 * the message is acked.
 */
const services = await productionServices();
const OWNER = 'pool-redis-settlement-test';

describe('record and finish in one step on RabbitMQ and Redis', { skip: services.skip }, async () => {
  const prefix = `gaffer-test:settle-${randomUUID().slice(0, 8)}:`;
  const queue = `settle-${randomUUID().slice(0, 6)}`;
  const open: Backend[] = [];
  const backendOnPrefix = () => {
    const backend = openBackend({ broker: services.amqpUrl, store: services.redisUrl, redisPrefix: prefix });
    open.push(backend);
    return backend;
  };
  after(async () => {
    for (const backend of open) await backend.close().catch(() => {});
    await services.cleanUp(prefix, [queue]);
  });

  const envelope = (key?: string): TaskEnvelope => ({
    id: `settle-${randomUUID().slice(0, 8)}`,
    queue,
    type: 'add',
    payload: '{"a":1,"b":2}',
    enqueuedAt: Date.now(),
    ...(key === undefined ? {} : { key }),
  });
  const succeeded = (task: TaskEnvelope): TaskUpdate => ({
    id: task.id,
    queue,
    type: task.type,
    state: 'succeeded',
    result: 3,
    finishedAt: Date.now(),
    poolId: OWNER,
  });

  async function claimOne(broker: Broker): Promise<Delivery> {
    let delivery: Delivery | undefined;
    await waitFor(async () => {
      [delivery] = await broker.claim({ queue, max: 1, owner: OWNER, leaseMs: 60_000 });
      return delivery !== undefined;
    }, 'a delivery');
    return delivery!;
  }

  async function messagesInQueue(): Promise<number> {
    const connection = await connect(services.amqpUrl);
    try {
      const channel = await connection.createChannel();
      return (await channel.checkQueue(queue)).messageCount;
    } finally {
      await connection.close();
    }
  }

  test('the record is final, the task has ended in the ledger, and its message is acked', async () => {
    const backend = backendOnPrefix();
    assert.ok(backend.settlement, 'RabbitMQ with its Redis offers a settlement');
    const task = envelope();
    await backend.broker.enqueue([task]);
    const delivery = await claimOne(backend.broker);
    assert.equal(delivery.envelope.id, task.id);

    await backend.settlement.complete(delivery, 'succeeded', succeeded(task));
    const [record] = await backend.store.getTasks([task.id]);
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.result, 3);
    const [stats] = await backend.broker.stats([queue]);
    assert.equal(stats?.running, 0);
    // Acked: once this pool's connection is gone, nothing comes back to the queue.
    await backend.close();
    assert.equal(await messagesInQueue(), 0);
  });

  test('a task is one hash: its record and its state in the ledger expire together, and a prune leaves the state, so a late copy is still dropped', async () => {
    const backend = backendOnPrefix();
    const task = envelope();
    await backend.broker.enqueue([task]);
    const delivery = await claimOne(backend.broker);
    await backend.settlement!.complete(delivery, 'succeeded', succeeded(task));

    const admin = new Redis(services.redisUrl);
    try {
      const hash = `${prefix}task:${task.id}`;
      const fields = await admin.hgetall(hash);
      assert.equal(fields.state, 'succeeded', "the store's record");
      assert.equal(fields.s, 'done', "the ledger's state, in the same hash");
      const ttl = await admin.pttl(hash);
      assert.ok(ttl > 23 * 3600_000, `final: expires after the retention, got ${ttl} ms`);

      // The earlier tests' records on this prefix go too.
      assert.ok((await backend.store.prune({ now: Date.now() + 1000, maxAgeMs: 1, maxRecords: 1000 })) >= 1);
      assert.deepEqual(await backend.store.getTasks([task.id]), []);
      assert.equal(await admin.hget(hash, 's'), 'done', "the ledger's state stays until the TTL");
      // A copy of the finished task (a producer that enqueued it again): the ledger knows it, and nothing runs.
      const [again] = await backend.broker.enqueue([task]);
      assert.equal(again?.created, false);
    } finally {
      admin.disconnect();
      // Its consumer would share the queue with the next test's.
      await backend.close();
    }
  });

  test('a dead-lettered task: its letter is in the dead-letter queue before its record is dead, and its message is acked', async () => {
    const backend = backendOnPrefix();
    const task = envelope();
    await backend.broker.enqueue([task]);
    const delivery = await claimOne(backend.broker);
    const reason = { kind: 'bad_input' as const, code: 'schema' as const, message: 'b: expected a number' };
    // Whoever sees the record dead must find the letter: look for it the moment the record turns final.
    const letterWhenDead = new Promise((resolve) => {
      const stop = backend.store.watchFinal([task.id], (record) => {
        stop();
        resolve(backend.broker.getDead(record.id));
      });
    });
    await backend.settlement!.deadLetter(delivery, reason, { ...succeeded(task), state: 'dead', result: undefined, deadReason: reason });
    const [record] = await backend.store.getTasks([task.id]);
    assert.equal(record?.state, 'dead');
    assert.deepEqual(record?.deadReason, reason);
    assert.deepEqual(((await letterWhenDead) as { reason?: unknown } | undefined)?.reason, reason);
    const [stats] = await backend.broker.stats([queue]);
    assert.equal(stats?.running, 0);
    await backend.close();
    assert.equal(await messagesInQueue(), 0, 'acked: nothing comes back to the queue');
  });

  test("a watcher of the task's result hears of it", async () => {
    const backend = backendOnPrefix();
    const task = envelope();
    await backend.broker.enqueue([task]);
    const delivery = await claimOne(backend.broker);
    const heard = new Promise<string>((resolve) => {
      const stop = backend.store.watchFinal([task.id], (record) => {
        stop();
        resolve(record.state);
      });
    });
    await backend.settlement!.complete(delivery, 'succeeded', succeeded(task));
    assert.equal(await heard, 'succeeded');
    // Its consumer would share the queue with the next test's, and keys keep their order within one pool only.
    await backend.close();
  });

  test('the end of a keyed task lets the next task of its key run', async () => {
    const backend = backendOnPrefix();
    const first = envelope('k');
    const second = envelope('k');
    await backend.broker.enqueue([first, second]);
    const delivery = await claimOne(backend.broker);
    assert.equal(delivery.envelope.id, first.id);
    await backend.settlement!.complete(delivery, 'succeeded', succeeded(first));
    const next = await claimOne(backend.broker);
    assert.equal(next.envelope.id, second.id);
    await backend.settlement!.complete(next, 'cancelled', { ...succeeded(second), state: 'cancelled', result: undefined });
    const records = await backend.store.getTasks([first.id, second.id]);
    assert.deepEqual(records.map((record) => record.state).sort(), ['cancelled', 'succeeded']);
  });

  test('a start recorded while the task ran never lands after its outcome, though the two take different connections', async () => {
    const backend = backendOnPrefix();
    const own = `${queue}-starts`;
    // A tick of 10 ms records the start of nearly every 5 ms task while it runs, close to its end.
    const pool = new PoolManager({ tasks: FIXTURE_TASKS, broker: backend.broker, store: backend.store, settlement: backend.settlement, settings: { queue: own, min: 2, max: 2, tickMs: 10 } });
    await pool.start();
    try {
      const client: FixtureClient = new GafferClient({ backend });
      const handles = await client.enqueueMany(Array.from({ length: 600 }, () => ({ type: 'spin' as const, payload: { ms: 5 }, options: { queue: own } })));
      await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 30_000 })));
      const states = new Set((await backend.store.getTasks(handles.map((handle) => handle.id))).map((record) => record.state));
      assert.deepEqual([...states], ['succeeded']);
    } finally {
      await pool.stop(2000);
      // Closed first: a consumer whose queue is deleted declares it again and goes on consuming.
      await backend.close();
      await services.cleanUp(prefix, [own]);
    }
  });
});
