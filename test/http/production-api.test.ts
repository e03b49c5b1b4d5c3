import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { openBackend } from '../../src/adapters/open-backend.js';
import { PoolManager } from '../../src/runtime/pool/pool-manager.js';
import { FIXTURE_TASKS } from '../support/pool-harness.js';
import { productionServices } from '../support/services.js';
import { waitFor } from '../support/temp-data.js';
import { startApi } from './support/api-harness.js';

/**
 * The HTTP surfaces on RabbitMQ and Redis: the same routes, the same answers
 * as on the embedded default, with a real pool behind them.
 */
const services = await productionServices();

describe('the HTTP API on RabbitMQ and Redis', { skip: services.skip }, async () => {
  const prefix = `gaffer-http-${randomUUID().slice(0, 8)}:`;
  const queue = `http-${randomUUID().slice(0, 6)}`;
  const backend = openBackend({ broker: services.amqpUrl, store: services.redisUrl, redisPrefix: prefix });
  const pool = new PoolManager({ tasks: FIXTURE_TASKS, broker: backend.broker, store: backend.store, settings: { queue, min: 1, max: 1 } });
  await pool.start();
  const api = await startApi({ backend, pool });
  after(async () => {
    await pool.stop(2000);
    await backend.close();
    await services.cleanUp(prefix, [queue]);
  });

  test('enqueue over HTTP, follow the task, and find the pool, the queue and the metrics', async () => {
    const created = await api.write('POST', '/api/tasks', { type: 'add', payload: { a: 20, b: 22 }, queue });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json() as { id: string };
    await waitFor(async () => (await api.get(`/api/tasks/${id}`)).json().state === 'succeeded', 'the task to succeed');
    assert.equal((await api.get(`/api/tasks/${id}`)).json().result, 42);

    const cluster = (await api.get('/api/cluster')).json() as { backend: string; queues: Array<{ queue: string }>; pools: Array<{ queue: string }> };
    assert.ok(cluster.queues.some((q) => q.queue === queue));
    assert.ok(cluster.pools.some((p) => p.queue === queue));
    assert.match(cluster.backend, /rabbitmq/);
    assert.doesNotMatch(JSON.stringify(cluster), /guest:guest/, 'no password in a response');

    const metrics = (await api.get('/metrics')).body;
    assert.match(metrics, new RegExp(`gaffer_tasks_total\\{queue="${queue}",type="add",outcome="succeeded"\\} 1`));
    assert.equal((await api.get('/readyz')).statusCode, 200);
  });

  test('a dead letter made on RabbitMQ is listed, and retried over HTTP', async () => {
    const created = (await api.write('POST', '/api/tasks', { type: 'fail', payload: { message: 'nope' }, queue })).json() as { id: string };
    await waitFor(async () => (await api.get(`/api/dead/${created.id}`)).statusCode === 200, 'the task to reach the dead letters', 20_000);
    const listed = (await api.get(`/api/dead?queue=${queue}`)).json() as { items: Array<{ envelope: { id: string } }> };
    assert.ok(listed.items.some((letter) => letter.envelope.id === created.id));
    await api.write('POST', `/api/queues/${queue}/pause`);
    // A pool applies a pause at its next heartbeat: until then it would run the retried task at once (and fail it again).
    const poolPaused = async () =>
      ((await api.get('/api/cluster')).json() as { pools: Array<{ queue: string; paused: boolean }> }).pools.some((pool) => pool.queue === queue && pool.paused);
    await waitFor(poolPaused, 'the pool to apply the pause', 20_000);
    const retried = await api.write('POST', `/api/dead/${created.id}/retry`);
    assert.deepEqual(retried.json(), { retried: [created.id] });
    assert.equal((await api.get(`/api/dead/${created.id}`)).statusCode, 404);
    assert.equal((await api.get(`/api/tasks/${created.id}`)).json().state, 'queued');
    await api.write('POST', `/api/queues/${queue}/resume`);
  });
});
