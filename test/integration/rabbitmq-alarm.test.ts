import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openBackend, type ServiceChange } from '../../src/adapters/open-backend.js';
import { ENQUEUE_BLOCKED_LIMIT_MS } from '../../src/adapters/rabbitmq/rabbit-broker.js';
import { GafferClient } from '../../src/client/client.js';
import { PoolManager } from '../../src/runtime/pool/pool-manager.js';
import { FIXTURE_TASKS, type FixtureClient } from '../support/pool-harness.js';
import { productionServices } from '../support/services.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

/**
 * RabbitMQ blocking publishers: a disk alarm, raised on this machine's
 * RabbitMQ by asking for more free disk than there is, and lifted again by
 * putting its limit back, whatever happens in the test.
 */
const services = await productionServices();

function rabbitmqctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

const hasDiskAlarm = () => /Free disk space alarm/.test(rabbitmqctl('status'));

test('an enqueue that RabbitMQ blocks (disk alarm) fails after a while, saying why; enqueued again once the alarm lifts, it runs once', { skip: services.skip }, async () => {
  const limit = rabbitmqctl('eval', 'rabbit_disk_monitor:get_disk_free_limit().').trim().split('\n').at(-1)!;
  assert.match(limit, /^\d+$/, 'the disk limit of RabbitMQ, to put back');
  const lift = async () => {
    rabbitmqctl('set_disk_free_limit', limit);
    await waitFor(() => !hasDiskAlarm(), 'the disk alarm to lift', 30_000);
  };
  after(lift);
  const prefix = `gaffer-it-${randomUUID().slice(0, 8)}:`;
  const queue = `alarm-${randomUUID().slice(0, 6)}`;
  after(() => services.cleanUp(prefix, [queue]));
  const open = () => {
    const backend = openBackend({ broker: services.amqpUrl, store: services.redisUrl, redisPrefix: prefix });
    const client: FixtureClient = new GafferClient({ backend });
    return { backend, client };
  };

  const first = open();
  const changes: ServiceChange[] = [];
  first.backend.watchServices((change) => changes.push(change));
  await first.client.ready();
  rabbitmqctl('set_disk_free_limit', '100000GB');
  await waitFor(hasDiskAlarm, 'the disk alarm', 30_000);

  const id = `alarmed-${randomUUID().slice(0, 8)}`;
  const runs = path.join(tempDataDir('alarm-runs'), 'runs.txt');
  const payload = { file: runs, key: 'k', seq: 1, ms: 50 };
  const startedAt = Date.now();
  await assert.rejects(first.client.enqueue('record', payload, { id, queue }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'storage_unavailable');
    assert.match(error.message, /RabbitMQ at amqp:\/\/.* has blocked publishing for 10 s \(low on disk\): nothing was confirmed/);
    assert.match(error.message, /enqueue again with the same ids: a pool runs one copy of each/);
    return true;
  });
  const waited = Date.now() - startedAt;
  assert.ok(waited >= ENQUEUE_BLOCKED_LIMIT_MS - 100 && waited < ENQUEUE_BLOCKED_LIMIT_MS + 10_000, `failed after ${waited} ms`);
  assert.ok(changes.some((change) => change.service === 'RabbitMQ' && change.blocked === true && change.reason === 'low on disk'), 'the block is reported');

  const closingAt = Date.now();
  await first.client.close();
  await first.backend.close();
  assert.ok(Date.now() - closingAt < 2000, 'a blocked connection is closed without waiting for the alarm');

  await lift();
  const second = open();
  const pool = new PoolManager({
    tasks: FIXTURE_TASKS,
    broker: second.backend.broker,
    store: second.backend.store,
    settlement: second.backend.settlement,
    settings: { queue, max: 1 },
  });
  try {
    const handle = await second.client.enqueue('record', payload, { id, queue });
    assert.equal(handle.created, false, 'the id was taken by the first try, whose publish is unconfirmed: it is published again, not created twice');
    assert.equal((await handle.status()).state, 'queued', 'the task is recorded before any pool runs it');
    // The blocked publish may have landed once the alarm lifted: then RabbitMQ holds two copies, and claims drop one.
    await pool.start();
    await handle.result({ timeoutMs: 20_000 });
    assert.equal((await handle.status()).state, 'succeeded');
    await sleep(500);
    assert.equal(fs.readFileSync(runs, 'utf8').trim().split('\n').length, 1, 'the task ran once');
    const [stats] = await second.backend.broker.stats([queue]);
    assert.equal(stats?.ready, 0, 'no copy is left');
  } finally {
    await pool.stop(2000);
    await second.client.close();
    await second.backend.close();
  }
});
