import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { TaskEnvelope } from '../../src/core/envelope.js';
import { openSqlite } from '../../src/adapters/sqlite/open-sqlite.js';
import type { TaskUpdate } from '../../src/ports/store.js';
import { tempDataDir } from '../support/temp-data.js';

const OWNER = 'pool-settlement-test';

/** The embedded backend with a group commit, as a pool manager opens it, on a fresh file. */
function openEmbedded() {
  const backend = openSqlite(tempDataDir('settlement'), { groupCommit: true });
  after(async () => {
    await backend.broker.close();
    await backend.store.close();
  });
  return backend;
}

function envelope(id: string, key?: string): TaskEnvelope {
  return { id, queue: 'default', type: 'add', payload: '{"a":1,"b":2}', enqueuedAt: Date.now(), ...(key === undefined ? {} : { key }) };
}

function succeeded(task: TaskEnvelope): TaskUpdate {
  return { id: task.id, queue: task.queue, type: task.type, state: 'succeeded', result: 3, finishedAt: Date.now(), poolId: OWNER };
}

async function enqueueAndClaim(backend: ReturnType<typeof openEmbedded>, tasks: TaskEnvelope[], recorded = true) {
  await backend.broker.enqueue(tasks);
  if (recorded) await backend.store.recordEnqueued(tasks.map((task) => ({ ...task, state: 'queued', attempts: 0, deaths: 0 })));
  return backend.broker.claim({ queue: 'default', max: tasks.length, owner: OWNER, leaseMs: 60_000 });
}

describe('the embedded settlement: record and ack in one transaction', () => {
  test('the record is final and the task no longer leased, once it resolves', async () => {
    const backend = openEmbedded();
    const task = envelope('settle-1');
    const [delivery] = await enqueueAndClaim(backend, [task]);
    await backend.settlement.complete(delivery!, 'succeeded', succeeded(task));
    const [record] = await backend.store.getTasks([task.id]);
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.result, 3);
    const [stats] = await backend.broker.stats(['default']);
    assert.equal(stats?.running, 0);
    // Nothing of the owner's is left to take back: the ack is in.
    assert.equal(await backend.broker.reclaim({ owner: OWNER }), 0);
  });

  test('a record that cannot be written undoes the ack too: the task stays leased, to run again', async () => {
    const backend = openEmbedded();
    const task = envelope('settle-2');
    // No record yet, so the update has to create one, and a record without a queue breaks its NOT NULL.
    const [delivery] = await enqueueAndClaim(backend, [task], false);
    const broken = { ...succeeded(task), queue: null } as unknown as TaskUpdate;
    await assert.rejects(backend.settlement.complete(delivery!, 'succeeded', broken), /NOT NULL/);
    assert.deepEqual(await backend.store.getTasks([task.id]), []);
    const [stats] = await backend.broker.stats(['default']);
    assert.equal(stats?.running, 1);
    assert.equal(await backend.broker.reclaim({ owner: OWNER }), 1);
  });

  test('a keyed task moves its key on, and the waiting pool hears of it', async () => {
    const backend = openEmbedded();
    const first = envelope('settle-key-1', 'k');
    const second = envelope('settle-key-2', 'k');
    const [delivery] = await enqueueAndClaim(backend, [first, second]);
    assert.equal(delivery?.envelope.id, first.id);
    const heard = new Promise<void>((resolve) => {
      const stop = backend.broker.subscribe((change) => {
        if (change !== 'tasks') return;
        stop();
        resolve();
      });
    });
    await backend.settlement.complete(delivery!, 'succeeded', succeeded(first));
    await heard;
    const [next] = await backend.broker.claim({ queue: 'default', max: 1, owner: OWNER, leaseMs: 60_000 });
    assert.equal(next?.envelope.id, second.id);
  });

  test('a dead-lettered task is dead in its record and in the dead-letter queue, and no longer leased, once it resolves', async () => {
    const backend = openEmbedded();
    const task = envelope('settle-dead');
    const [delivery] = await enqueueAndClaim(backend, [task]);
    const reason = { kind: 'bad_input' as const, code: 'schema' as const, message: 'b: expected a number' };
    await backend.settlement.deadLetter(delivery!, reason, { ...succeeded(task), state: 'dead', result: undefined, deadReason: reason });
    const [record] = await backend.store.getTasks([task.id]);
    assert.equal(record?.state, 'dead');
    assert.deepEqual(record?.deadReason, reason);
    assert.deepEqual((await backend.broker.getDead(task.id))?.reason, reason);
    assert.equal(await backend.broker.reclaim({ owner: OWNER }), 0, 'nothing left leased to run again');
  });

  test('a dead letter that cannot be recorded is not buried either: the task stays leased, to run again', async () => {
    const backend = openEmbedded();
    const task = envelope('settle-dead-broken');
    const [delivery] = await enqueueAndClaim(backend, [task], false);
    const reason = { kind: 'bad_input' as const, code: 'schema' as const, message: 'b: expected a number' };
    const broken = { ...succeeded(task), state: 'dead', queue: null, deadReason: reason } as unknown as TaskUpdate;
    await assert.rejects(backend.settlement.deadLetter(delivery!, reason, broken), /NOT NULL/);
    assert.equal(await backend.broker.getDead(task.id), undefined);
    assert.equal(await backend.broker.reclaim({ owner: OWNER }), 1);
  });

  test('a cancelled task ends cancelled, not acked as done', async () => {
    const backend = openEmbedded();
    const task = envelope('settle-3');
    const [delivery] = await enqueueAndClaim(backend, [task]);
    await backend.settlement.complete(delivery!, 'cancelled', { ...succeeded(task), state: 'cancelled', result: undefined });
    const [record] = await backend.store.getTasks([task.id]);
    assert.equal(record?.state, 'cancelled');
    const [stats] = await backend.broker.stats(['default']);
    assert.equal(stats?.running, 0);
  });
});
