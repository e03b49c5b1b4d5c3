import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import Fastify, { type RouteOptions } from 'fastify';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { redactUrl } from '../../src/adapters/redact-url.js';
import { GafferClient } from '../../src/client/client.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { DecisionRecord, PoolSnapshot, WorkerSnapshot } from '../../src/ports/store.js';
import { apiRoutes } from '../../src/http/routes/api-routes.js';
import { readCluster } from '../../src/views/cluster-view.js';
import { startPool } from '../support/pool-harness.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';
import { errorCode, errorMessage, makeDeadLetters, startApi, TOKEN } from './support/api-harness.js';

/** Every route of the API contract but /api/events (the dashboard's stream, served elsewhere). */
const CONTRACT = [
  'GET /api/cluster',
  'GET /api/queues',
  'GET /api/queues/:queue',
  'POST /api/queues/:queue/pause',
  'POST /api/queues/:queue/resume',
  'GET /api/pools',
  'PUT /api/pools/:id/limits',
  'DELETE /api/pools/:id/limits',
  'GET /api/tasks/:id',
  'POST /api/tasks',
  'POST /api/tasks/:id/cancel',
  'GET /api/dead',
  'GET /api/dead/:id',
  'POST /api/dead/:id/retry',
  'DELETE /api/dead/:id',
  'POST /api/dead/retry',
  'POST /api/dead/purge',
  'GET /api/decisions',
];

const WITH_BODY = new Set(['POST /api/tasks', 'PUT /api/pools/:id/limits', 'POST /api/dead/retry', 'POST /api/dead/purge']);

/** Every write, with a body it would accept. */
const WRITES: Array<{ method: 'POST' | 'PUT' | 'DELETE'; url: string; payload?: object }> = [
  { method: 'POST', url: '/api/queues/mail/pause' },
  { method: 'POST', url: '/api/queues/mail/resume' },
  { method: 'PUT', url: '/api/pools/some-pool/limits', payload: { min: 0, max: 4 } },
  { method: 'DELETE', url: '/api/pools/some-pool/limits' },
  { method: 'POST', url: '/api/tasks', payload: { type: 'echo', payload: { value: 1 }, queue: 'mail' } },
  { method: 'POST', url: '/api/tasks/some-task/cancel' },
  { method: 'POST', url: '/api/dead/some-task/retry' },
  { method: 'DELETE', url: '/api/dead/some-task' },
  { method: 'POST', url: '/api/dead/retry', payload: { all: true } },
  { method: 'POST', url: '/api/dead/purge', payload: { all: true } },
];

const READS = ['/api/cluster', '/api/queues', '/api/pools', '/api/dead', '/api/decisions'];

describe('the API routes', () => {
  test('are the routes of the contract, each with a schema for what it takes and answers', async () => {
    const routes: RouteOptions[] = [];
    const app = Fastify();
    app.addHook('onRoute', (route) => void routes.push(route));
    const backend = openBackend({ data: tempDataDir('api-schemas') });
    await apiRoutes(app, { backend, logger: silentLogger, draining: () => false });
    await app.ready();
    await app.close();
    await backend.close();

    const api = routes.filter((route) => route.method !== 'HEAD');
    assert.deepEqual(api.map((route) => `${String(route.method)} ${route.url}`).sort(), [...CONTRACT].sort());
    for (const route of api) {
      const name = `${String(route.method)} ${route.url}`;
      const schema = route.schema as Record<string, Record<string, unknown> | undefined>;
      assert.ok(Object.keys(schema.response ?? {}).some((status) => /^2\d\d$/.test(status)), `${name} describes its 2xx response`);
      if (route.url.includes(':')) assert.ok(schema.params, `${name} has a params schema`);
      if (WITH_BODY.has(name)) assert.ok(schema.body, `${name} has a body schema`);
      if (route.method === 'GET' && !route.url.includes(':')) assert.ok(schema.querystring, `${name} has a querystring schema`);
    }
  });
});

describe('authorization', async () => {
  const api = await startApi();
  const [deadId] = await makeDeadLetters(api.backend, 'mail', 1);
  const open = await startApi({ token: null });

  test('a write without the header, with another token or another scheme is refused with 401 unauthorized', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
      for (const write of WRITES) {
        const response = await api.app.inject({ ...write, headers });
        assert.equal(response.statusCode, 401, `${write.method} ${write.url} with ${JSON.stringify(headers)}`);
        assert.equal(errorCode(response), 'unauthorized');
        assert.match(errorMessage(response), /Authorization: Bearer/);
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      }
    }
  });

  test('without a configured token every write is refused with 403 writes_disabled, token or not', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }]) {
      for (const write of WRITES) {
        const response = await open.app.inject({ ...write, headers });
        assert.equal(response.statusCode, 403, `${write.method} ${write.url}`);
        assert.equal(errorCode(response), 'writes_disabled');
        assert.match(errorMessage(response), /GAFFER_TOKEN/);
      }
    }
  });

  test('refused writes change nothing', async () => {
    assert.deepEqual(await api.backend.store.pausedQueues(), []);
    assert.deepEqual(await api.backend.store.poolLimits('some-pool'), undefined);
    assert.ok(await api.backend.broker.getDead(deadId!), 'the dead letter is still there');
    const [mail] = await api.backend.broker.stats(['mail']);
    assert.equal(mail!.enqueuedTotal, 1, 'nothing was enqueued but the dead letter itself');
  });

  test('reads need no token', async () => {
    for (const harness of [api, open]) {
      for (const url of READS) assert.equal((await harness.get(url)).statusCode, 200, url);
    }
  });
});

describe('queues', async () => {
  const api = await startApi();
  const client = new GafferClient({ backend: api.backend });
  const queues = ['q-a', 'q-b', 'q-c', 'q-d', 'q-e'];
  for (const [index, queue] of queues.entries()) {
    await client.enqueueMany(Array.from({ length: index + 1 }, () => ({ type: 'noop', payload: null, options: { queue } })));
  }
  await client.enqueue('noop', null, { queue: 'q-a', delayMs: 60_000 });

  test('GET /api/queues pages through the queues and their counts', async () => {
    const all = (await readCluster(api.backend, { decisions: 0 })).queues;
    const first = await api.get('/api/queues');
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { total: 5, offset: 0, limit: 100, items: all });

    const page = (await api.get('/api/queues?offset=1&limit=2')).json();
    assert.deepEqual(page, { total: 5, offset: 1, limit: 2, items: all.slice(1, 3) });
    assert.deepEqual(
      page.items.map((q: { queue: string; ready: number }) => [q.queue, q.ready]),
      [
        ['q-b', 2],
        ['q-c', 3],
      ],
    );
    assert.deepEqual((await api.get('/api/queues?offset=5')).json().items, []);
  });

  test('GET /api/queues/:queue answers one queue, 404 not_found for one nobody used, 400 for a name no queue can have', async () => {
    const response = await api.get('/api/queues/q-a');
    assert.equal(response.statusCode, 200);
    const view = response.json();
    assert.equal(view.ready, 1);
    assert.equal(view.delayed, 1);
    assert.equal(view.enqueuedTotal, 2);
    assert.equal(view.paused, false);
    assert.equal(view.waitMs, null);

    const missing = await api.get('/api/queues/never-used');
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing), 'not_found');
    assert.match(errorMessage(missing), /never-used/);

    for (const bad of ['-leading-dash', 'has%20space', 'a*b']) {
      const invalid = await api.get(`/api/queues/${bad}`);
      assert.equal(invalid.statusCode, 400, bad);
      assert.equal(errorCode(invalid), 'request_invalid');
      assert.match(errorMessage(invalid), /params\.queue is not valid: a queue name is a letter or digit/);
    }
  });

  test(
    'the longest names and ids the core allows can be addressed',
    async () => {
      const queue = `q${'x'.repeat(127)}`;
      await client.enqueue('noop', null, { queue, id: `t${'y'.repeat(199)}` });
      assert.equal((await api.get(`/api/queues/${queue}`)).statusCode, 200);
      assert.equal((await api.get(`/api/tasks/t${'y'.repeat(199)}`)).statusCode, 200);
    },
  );

  test('paging parameters out of range are refused with a message naming them', async () => {
    for (const [query, words] of [
      ['limit=0', /querystring\.limit must be >= 1/],
      ['limit=1001', /querystring\.limit must be <= 1000/],
      ['offset=-1', /querystring\.offset must be >= 0/],
      ['limit=ten', /querystring\.limit must be an integer/],
    ] as const) {
      const response = await api.get(`/api/queues?${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(errorCode(response), 'request_invalid');
      assert.match(errorMessage(response), words);
    }
  });

  test('pause and resume reach the store, and a queue can be paused before its first task', async () => {
    const paused = await api.write('POST', '/api/queues/q-b/pause');
    assert.equal(paused.statusCode, 204);
    assert.equal(paused.body, '');
    assert.deepEqual(await api.backend.store.pausedQueues(), ['q-b']);
    assert.equal((await api.get('/api/queues/q-b')).json().paused, true);

    // Twice is the same as once; an empty JSON body is no body.
    const again = await api.app.inject({
      method: 'POST',
      url: '/api/queues/q-b/pause',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(again.statusCode, 204);
    assert.deepEqual(await api.backend.store.pausedQueues(), ['q-b']);

    assert.equal((await api.write('POST', '/api/queues/later/pause')).statusCode, 204);
    assert.equal((await api.get('/api/queues/later')).json().paused, true);

    assert.equal((await api.write('POST', '/api/queues/q-b/resume')).statusCode, 204);
    assert.equal((await api.write('POST', '/api/queues/later/resume')).statusCode, 204);
    assert.deepEqual(await api.backend.store.pausedQueues(), []);
    assert.equal((await api.get('/api/queues/q-b')).json().paused, false);
    assert.equal((await api.get('/api/queues/later')).statusCode, 404);
    assert.ok(api.logs.some((line) => line.includes('queue paused through the API')));

    const invalid = await api.write('POST', '/api/queues/bad%20name/pause');
    assert.equal(invalid.statusCode, 400);
    assert.equal(errorCode(invalid), 'request_invalid');
  });
});

describe('the cluster view', async () => {
  const api = await startApi();
  const client = new GafferClient({ backend: api.backend });
  for (const queue of ['c-1', 'c-2', 'c-3']) await client.enqueue('noop', null, { queue });
  const decision = (at: number, poolId: string): DecisionRecord => ({
    poolId,
    at,
    from: 0,
    to: 1,
    want: 1,
    reason: 'backlog',
    detail: '1 task(s) ready',
    observation: { now: at, ready: 1, running: 0, workers: 0, arrivalRate: 0.5, serviceMs: null },
  });
  for (let i = 0; i < 5; i++) await api.backend.store.recordDecision(decision(1000 + i, i % 2 ? 'pool-odd' : 'pool-even'));

  test('GET /api/cluster answers the queues, pools and decisions with totals for paging', async () => {
    const response = await api.get('/api/cluster');
    assert.equal(response.statusCode, 200);
    const view = response.json();
    const direct = await readCluster(api.backend, { decisions: 50 });
    assert.deepEqual({ ...view, at: 0 }, { ...direct, at: 0, totals: { queues: 3, pools: 0 } });
    assert.equal(view.decisions.length, 5);
    assert.match(view.backend, /broker sqlite .*gaffer\.db/);
  });

  test('queues, pools and decisions come a page at a time', async () => {
    const view = (await api.get('/api/cluster?queueOffset=1&queueLimit=1&poolOffset=0&poolLimit=5&decisions=2')).json();
    assert.deepEqual(
      view.queues.map((q: { queue: string }) => q.queue),
      ['c-2'],
    );
    assert.deepEqual(view.totals, { queues: 3, pools: 0 });
    assert.deepEqual(
      view.decisions.map((d: DecisionRecord) => d.at),
      [1004, 1003],
    );
    assert.equal((await api.get('/api/cluster?decisions=0')).json().decisions.length, 0);
    for (const query of ['queueLimit=0', 'poolOffset=-2', 'decisions=5000', 'queueLimit=x']) {
      const response = await api.get(`/api/cluster?${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(errorCode(response), 'request_invalid');
    }
  });

  test('GET /api/decisions answers the newest first, of all pools or of one', async () => {
    const all = await api.get('/api/decisions');
    assert.equal(all.statusCode, 200);
    assert.deepEqual(all.json(), { items: await api.backend.store.listDecisions({ limit: 100 }) });
    assert.equal(all.json().items.length, 5);
    assert.deepEqual(all.json().items[0].observation, decision(1004, 'pool-even').observation);

    const odd = (await api.get('/api/decisions?pool=pool-odd&limit=1')).json();
    assert.deepEqual(odd.items, [decision(1003, 'pool-odd')]);
    assert.deepEqual((await api.get('/api/decisions?pool=nobody')).json(), { items: [] });
    for (const query of ['limit=0', 'limit=1001', 'limit=many']) {
      const response = await api.get(`/api/decisions?${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(errorCode(response), 'request_invalid');
    }
  });
});

describe('tasks', async () => {
  const api = await startApi();
  const enqueuedTotal = async (queue: string) => (await api.backend.broker.stats([queue]))[0]?.enqueuedTotal ?? 0;

  test('POST /api/tasks enqueues: 201 with the id, a Location, a queued record and a ready task', async () => {
    const response = await api.write('POST', '/api/tasks', { type: 'echo', payload: { value: 'hi' }, queue: 'http' });
    assert.equal(response.statusCode, 201);
    const { id, created } = response.json();
    assert.equal(created, true);
    assert.equal(response.headers.location, `/api/tasks/${id}`);
    const [record] = await api.backend.store.getTasks([id]);
    assert.equal(record!.state, 'queued');
    assert.equal(record!.queue, 'http');
    assert.equal(record!.type, 'echo');
    const [stats] = await api.backend.broker.stats(['http']);
    assert.equal(stats!.ready, 1);
  });

  test('the options arrive with the task: id, key, group, delay; an id that exists is not enqueued again (200)', async () => {
    const body = { type: 'echo', payload: { value: 2 }, queue: 'http', id: 'order-17', key: 'customer-4', group: 'batch-9', delayMs: 60_000 };
    const first = await api.write('POST', '/api/tasks', body);
    assert.equal(first.statusCode, 201);
    assert.deepEqual(first.json(), { id: 'order-17', created: true });
    const [record] = await api.backend.store.getTasks(['order-17']);
    assert.equal(record!.key, 'customer-4');
    assert.equal(record!.group, 'batch-9');
    const before = await api.backend.broker.stats(['http']);
    assert.equal(before[0]!.delayed, 1);

    const again = await api.write('POST', '/api/tasks', { ...body, payload: { value: 3 } });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { id: 'order-17', created: false });
    assert.deepEqual(await api.backend.broker.stats(['http']), before);
  });

  test('bad bodies are refused with a stable code and a message that says what is wrong', async () => {
    const before = await enqueuedTotal('http');
    const cases: Array<[unknown, string, RegExp]> = [
      [{}, 'request_invalid', /body needs the field "type"/],
      [{ type: 'echo' }, 'request_invalid', /body needs the field "payload"/],
      [{ type: '', payload: 1 }, 'request_invalid', /body\.type must NOT have fewer than 1 characters/],
      [{ type: 'echo', payload: 1, dealyMs: 5 }, 'request_invalid', /unknown field "dealyMs"; the fields are: type, payload, queue, key, id, group, delayMs/],
      [{ type: 'echo', payload: 1, delayMs: 1.5 }, 'request_invalid', /body\.delayMs must be an integer/],
      [{ type: 'echo', payload: 1, queue: { name: 'x' } }, 'request_invalid', /body\.queue must be a string/],
      [[{ type: 'echo', payload: 1 }], 'request_invalid', /body must be an object/],
      [{ type: 'echo', payload: 1, delayMs: -5 }, 'enqueue_options_invalid', /delayMs/],
      [{ type: 'echo', payload: 1, queue: 'no spaces please' }, 'enqueue_options_invalid', /queue: use a letter or digit/],
      [{ type: 'echo', payload: 1, id: 'has a space' }, 'enqueue_options_invalid', /id: use 1 to 200 printable characters/],
    ];
    for (const [body, code, message] of cases) {
      const response = await api.write('POST', '/api/tasks', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(errorCode(response), code, JSON.stringify(body));
      assert.match(errorMessage(response), message);
    }
    for (const [contentType, payload] of [
      ['application/json', '{"type": "echo", '],
      ['application/json', ''],
      ['text/plain', 'echo 1'],
    ]) {
      const response = await api.app.inject({
        method: 'POST',
        url: '/api/tasks',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType! },
        payload,
      });
      assert.equal(response.statusCode, 400, `${contentType} ${payload}`);
      assert.equal(errorCode(response), 'request_invalid');
    }
    assert.equal(await enqueuedTotal('http'), before, 'nothing was enqueued');
  });

  test('a payload over its limit is refused with 413 payload_too_large, a body over the server limit with 413 body_too_large', async () => {
    const before = await enqueuedTotal('http');
    const big = await api.write('POST', '/api/tasks', { type: 'echo', payload: 'x'.repeat(1024 * 1024), queue: 'http' });
    assert.equal(big.statusCode, 413);
    assert.equal(errorCode(big), 'payload_too_large');
    assert.match(errorMessage(big), /over the limit of 1048576 bytes; send a reference/);

    const huge = await api.write('POST', '/api/tasks', { type: 'echo', payload: 'x'.repeat(2 * 1024 * 1024), queue: 'http' });
    assert.equal(huge.statusCode, 413);
    assert.equal(errorCode(huge), 'body_too_large');
    assert.equal(await enqueuedTotal('http'), before);
  });

  test('GET /api/tasks/:id answers the record; 404 task_not_found for an unknown id; 400 for an id no task can have', async () => {
    const { id } = (await api.write('POST', '/api/tasks', { type: 'add', payload: { a: 1, b: 2 }, key: 'k' })).json();
    const response = await api.get(`/api/tasks/${id}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), (await api.backend.store.getTasks([id]))[0]);

    const missing = await api.get('/api/tasks/no-such-task');
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing), 'task_not_found');
    assert.match(errorMessage(missing), /no-such-task/);

    const invalid = await api.get('/api/tasks/has%20space');
    assert.equal(invalid.statusCode, 400);
    assert.match(errorMessage(invalid), /params\.id is not valid: an id is 1 to 200 printable characters/);
  });

  test('POST /api/tasks/:id/cancel cancels a queued task for good; a finished one says so; an unknown one is 404', async () => {
    const { id } = (await api.write('POST', '/api/tasks', { type: 'noop', payload: null, queue: 'to-cancel' })).json();
    const cancelled = await api.write('POST', `/api/tasks/${id}/cancel`);
    assert.equal(cancelled.statusCode, 200);
    assert.deepEqual(cancelled.json(), { id, outcome: 'cancelled' });
    assert.equal((await api.get(`/api/tasks/${id}`)).json().state, 'cancelled');
    assert.equal((await api.backend.broker.stats(['to-cancel']))[0]!.ready, 0);

    assert.deepEqual((await api.write('POST', `/api/tasks/${id}/cancel`)).json(), { id, outcome: 'finished' });

    const missing = await api.write('POST', '/api/tasks/no-such-task/cancel');
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing), 'task_not_found');
  });
});

describe('dead letters', async () => {
  const api = await startApi();
  const { broker, store } = api.backend;
  const mail = await makeDeadLetters(api.backend, 'mail', 3, 'smtp refused');
  const billing = await makeDeadLetters(api.backend, 'billing', 2, 'card declined');

  test('GET /api/dead lists them newest first, a page at a time, of all queues or of one', async () => {
    const all = await api.get('/api/dead');
    assert.equal(all.statusCode, 200);
    assert.deepEqual(all.json(), { total: 5, offset: 0, limit: 100, items: await broker.listDead({ offset: 0, limit: 100 }) });
    assert.deepEqual(
      new Set(all.json().items.map((letter: { envelope: { id: string } }) => letter.envelope.id)),
      new Set([...mail, ...billing]),
    );

    const page = (await api.get('/api/dead?offset=1&limit=2')).json();
    assert.deepEqual(page, { total: 5, offset: 1, limit: 2, items: await broker.listDead({ offset: 1, limit: 2 }) });

    const ofBilling = (await api.get('/api/dead?queue=billing')).json();
    assert.equal(ofBilling.total, 2);
    assert.deepEqual(ofBilling.items.map((letter: { envelope: { id: string } }) => letter.envelope.id).sort(), [...billing].sort());
    assert.equal(ofBilling.items[0].reason.message, 'card declined');
    assert.deepEqual((await api.get('/api/dead?queue=nothing-here')).json(), { total: 0, offset: 0, limit: 100, items: [] });

    for (const query of ['queue=bad%20name', 'limit=0', 'offset=x']) {
      const response = await api.get(`/api/dead?${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(errorCode(response), 'request_invalid');
    }
  });

  test('GET /api/dead/:id answers one in full; 404 dead_letter_not_found for an unknown id', async () => {
    const response = await api.get(`/api/dead/${mail[0]}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), await broker.getDead(mail[0]!));
    const letter = response.json();
    assert.equal(letter.reason.kind, 'failed');
    assert.match(letter.reason.stack, /smtp refused/);
    assert.equal(JSON.parse(letter.envelope.payload).message, 'smtp refused');

    const missing = await api.get('/api/dead/no-such-letter');
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing), 'dead_letter_not_found');
    assert.equal((await api.get('/api/dead/has%20space')).statusCode, 400);
  });

  test('POST /api/dead/:id/retry sends it back to its queue and its record starts over', async () => {
    const id = mail[0]!;
    const response = await api.write('POST', `/api/dead/${id}/retry`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { retried: [id] });
    assert.equal(await broker.getDead(id), undefined);
    const [record] = await store.getTasks([id]);
    assert.equal(record!.state, 'queued');
    assert.equal(record!.attempts, 0);
    assert.equal(record!.deadReason, undefined);
    const [stats] = await broker.stats(['mail']);
    assert.equal(stats!.ready, 1);
    assert.equal(stats!.dead, 2);

    const again = await api.write('POST', `/api/dead/${id}/retry`);
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), 'dead_letter_not_found');
  });

  test('DELETE /api/dead/:id deletes it for good; a second time is 404', async () => {
    const id = mail[1]!;
    const response = await api.write('DELETE', `/api/dead/${id}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { purged: [id] });
    assert.equal(await broker.getDead(id), undefined);
    const again = await api.write('DELETE', `/api/dead/${id}`);
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), 'dead_letter_not_found');
  });

  test('POST /api/dead/retry and /api/dead/purge take ids, a queue or all', async () => {
    const retried = await api.write('POST', '/api/dead/retry', { queue: 'billing' });
    assert.equal(retried.statusCode, 200);
    assert.deepEqual(retried.json().retried.sort(), [...billing].sort());
    for (const [record] of await Promise.all(billing.map((id) => store.getTasks([id])))) assert.equal(record!.state, 'queued');

    const more = await makeDeadLetters(api.backend, 'reports', 3);
    const byIds = await api.write('POST', '/api/dead/purge', { ids: [more[0], 'not-a-dead-letter'] });
    assert.deepEqual(byIds.json(), { purged: [more[0]] });

    const everything = await api.write('POST', '/api/dead/purge', { all: true });
    assert.deepEqual(everything.json().purged.sort(), [mail[2], more[1], more[2]].sort());
    assert.deepEqual((await api.get('/api/dead')).json(), { total: 0, offset: 0, limit: 100, items: [] });
    assert.deepEqual((await api.write('POST', '/api/dead/retry', { all: true })).json(), { retried: [] });
  });

  test('a selector must say exactly one of ids, queue or all', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /exactly one of: \{"ids": \["..."\]\}, \{"queue": "name"\} or \{"all": true\}/],
      [{ ids: ['a'], queue: 'mail' }, /exactly one of/],
      [{ all: false }, /body\.all must be true/],
      [{ ids: [] }, /body\.ids must NOT have fewer than 1 items/],
      [{ queue: 'bad name' }, /body\.queue is not valid: a queue name/],
      [{ everything: true }, /unknown field "everything"; the fields are: ids, queue, all/],
      [undefined, /body must be an object/],
    ];
    for (const path of ['/api/dead/retry', '/api/dead/purge']) {
      for (const [body, message] of cases) {
        const response = await api.write('POST', path, body);
        assert.equal(response.statusCode, 400, `${path} ${JSON.stringify(body)}`);
        assert.equal(errorCode(response), 'request_invalid');
        assert.match(errorMessage(response), message);
      }
    }
  });
});

describe('pool limits without a live pool', async () => {
  const api = await startApi();

  test('GET /api/pools is empty; limits of an unknown pool are 404 pool_not_found', async () => {
    assert.deepEqual((await api.get('/api/pools')).json(), { total: 0, offset: 0, limit: 100, items: [] });
    for (const [method, payload] of [
      ['PUT', { min: 1, max: 2 }],
      ['DELETE', undefined],
    ] as const) {
      const response = await api.write(method, '/api/pools/gone-pool/limits', payload);
      assert.equal(response.statusCode, 404, method);
      assert.equal(errorCode(response), 'pool_not_found');
      assert.match(errorMessage(response), /gone-pool/);
    }
    assert.equal(await api.backend.store.poolLimits('gone-pool'), undefined);
  });

  test('limits must be integers, min at least 0, max at least 1, min not above max', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ min: 3, max: 2 }, /min \(3\) is above max \(2\)/],
      [{ min: 0, max: 0 }, /body\.max must be >= 1/],
      [{ min: -1, max: 2 }, /body\.min must be >= 0/],
      [{ min: 1.5, max: 2 }, /body\.min must be an integer/],
      [{ min: 1 }, /body needs the field "max"/],
      [{ min: 1, max: 2, idle: 5 }, /unknown field "idle"; the fields are: min, max/],
      [{ min: 1, max: 1e9 }, /body\.max must be <= 100000/],
    ];
    for (const [body, message] of cases) {
      const response = await api.write('PUT', '/api/pools/gone-pool/limits', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(errorCode(response), 'request_invalid');
      assert.match(errorMessage(response), message);
    }
  });
});

describe('with a real pool', async () => {
  const harness = await startPool({ queue: 'work', min: 1, max: 2 });
  // As beside `gaffer up`: the server uses the pool's own backend (same data directory, same connection).
  const api = await startApi({ backend: harness.backend, pool: harness.pool });
  const { pool } = harness;
  /** The pool as the API reports it; none while its row is stale (a slow start outlasts its TTL). */
  const reported = async (): Promise<PoolSnapshot | undefined> => {
    const { total, items } = (await api.get('/api/pools')).json() as { total: number; items: PoolSnapshot[] };
    assert.ok(total <= 1);
    return items[0];
  };
  const taskState = async (id: string): Promise<string> => (await api.get(`/api/tasks/${id}`)).json().state;
  // The pool records a task as dead, then moves it to the dead-letter queue: wait for both.
  const isDeadLetter = async (id: string): Promise<boolean> =>
    (await taskState(id)) === 'dead' && (await api.get(`/api/dead/${id}`)).statusCode === 200;

  test('GET /api/pools and /api/cluster show the pool and its workers', async () => {
    // Its first report comes before its first worker: wait for a heartbeat with the worker.
    await waitFor(async () => ((await reported())?.workers.length ?? 0) >= 1, 'the pool to report its worker', 5000);
    const snapshot = (await reported())!;
    assert.equal(snapshot.id, pool.id);
    assert.equal(snapshot.queue, 'work');
    assert.equal(snapshot.min, 1);
    assert.equal(snapshot.max, 2);
    for (const worker of snapshot.workers) assert.ok(harness.workerPids.has(worker.pid), `worker ${worker.pid} belongs to the pool`);
    // Nothing of the snapshot is lost on the way (a heartbeat between the two reads changes it: read again).
    await waitFor(
      async () => isDeepStrictEqual(await reported(), (await api.backend.store.listPools())[0]),
      'the API to answer the snapshot the store holds',
      3000,
    );

    const cluster = (await api.get('/api/cluster')).json();
    assert.equal(cluster.totals.pools, 1);
    const work = cluster.queues.find((queue: { queue: string }) => queue.queue === 'work');
    assert.equal(work.pools, 1);
    assert.ok(work.workers >= 1);
  });

  test('a worker shows the task it runs; cancelling it through the API stops it', async () => {
    const { id } = (await api.write('POST', '/api/tasks', { type: 'nap', payload: { ms: 10_000 }, queue: 'work' })).json();
    let busy: WorkerSnapshot | undefined;
    await waitFor(
      async () => {
        busy = (await reported())?.workers.find((worker) => worker.taskId === id);
        return busy !== undefined;
      },
      'the pool to report the running task',
      5000,
    );
    assert.equal(busy!.state, 'busy');
    assert.equal(busy!.taskType, 'nap');
    assert.ok(busy!.taskStartedAt! <= Date.now());
    assert.equal((await taskState(id)), 'running');

    const response = await api.write('POST', `/api/tasks/${id}/cancel`);
    assert.deepEqual(response.json(), { id, outcome: 'stopping' });
    await waitFor(async () => (await taskState(id)) === 'cancelled', 'the running task to end as cancelled', 5000);
  });

  test('new limits reach the store and the pool applies them within its heartbeat; DELETE gives back its own', async () => {
    const setAt = Date.now();
    const set = await api.write('PUT', `/api/pools/${pool.id}/limits`, { min: 2, max: 3 });
    assert.equal(set.statusCode, 204);
    assert.equal(set.body, '');
    assert.deepEqual(await api.backend.store.poolLimits(pool.id), { min: 2, max: 3 });
    await waitFor(() => pool.snapshot().min === 2 && pool.snapshot().max === 3, 'the pool to take the new limits', 3000);
    await waitFor(async () => (await reported())?.max === 3, 'the pool to report the new limits', 3000);
    await waitFor(() => pool.snapshot().workers.filter((w) => w.state !== 'retiring').length === 2, 'a second worker for min 2', 5000);

    // Growing to the new minimum is a scaling decision, with its reason, in the log.
    const grew = (d: DecisionRecord) => d.at >= setAt && d.to === 2;
    await waitFor(async () => (await api.get(`/api/decisions?pool=${pool.id}`)).json().items.some(grew), 'the decision to grow');
    const decisions = (await api.get(`/api/decisions?pool=${pool.id}`)).json().items as DecisionRecord[];
    assert.deepEqual(decisions.slice(-1), (await api.backend.store.listDecisions({ limit: 100, poolId: pool.id })).slice(-1));
    assert.equal(decisions.find(grew)!.reason, 'at_min');
    assert.match(decisions.find(grew)!.detail, /kept at min 2/);

    const cleared = await api.write('DELETE', `/api/pools/${pool.id}/limits`);
    assert.equal(cleared.statusCode, 204);
    assert.equal(await api.backend.store.poolLimits(pool.id), undefined);
    await waitFor(() => pool.snapshot().min === 1 && pool.snapshot().max === 2, 'the pool to go back to its settings', 3000);
  });

  test('a paused queue reaches the pool, which takes none of its tasks until it is resumed', async () => {
    assert.equal((await api.write('POST', '/api/queues/work/pause')).statusCode, 204);
    await waitFor(() => pool.snapshot().paused, 'the pool to see the pause', 3000);
    await waitFor(async () => (await reported())?.paused === true, 'the pool to report the pause', 3000);

    const { id } = (await api.write('POST', '/api/tasks', { type: 'add', payload: { a: 2, b: 3 }, queue: 'work' })).json();
    await sleep(300);
    assert.equal(await taskState(id), 'queued');
    const queue = (await api.get('/api/queues/work')).json();
    assert.equal(queue.paused, true);
    assert.equal(queue.ready, 1);

    assert.equal((await api.write('POST', '/api/queues/work/resume')).statusCode, 204);
    await waitFor(async () => (await taskState(id)) === 'succeeded', 'the task to run after the resume', 5000);
    assert.equal((await api.get(`/api/tasks/${id}`)).json().result, 5);
    assert.equal(pool.snapshot().paused, false);
  });

  test('a task that keeps failing becomes a dead letter; retried through the API, it starts over', async () => {
    const { id } = (await api.write('POST', '/api/tasks', { type: 'fail', payload: { message: 'disk full' }, queue: 'work' })).json();
    await waitFor(() => isDeadLetter(id), 'the failing task to die', 10_000);
    const record = (await api.get(`/api/tasks/${id}`)).json();
    assert.equal(record.attempts, 3);
    assert.equal(record.deadReason.kind, 'failed');
    assert.equal(record.deadReason.message, 'disk full');

    const letter = (await api.get(`/api/dead/${id}`)).json();
    assert.deepEqual((await api.get(`/api/dead/${id}`)).json(), await api.backend.broker.getDead(id));
    assert.equal(letter.reason.message, 'disk full');
    assert.match(letter.reason.stack, /disk full/);
    const listed = (await api.get('/api/dead?queue=work')).json();
    assert.ok(listed.items.some((item: { envelope: { id: string } }) => item.envelope.id === id));

    // Paused, the retried task waits in its queue where the test can see that it started over.
    await api.write('POST', '/api/queues/work/pause');
    await waitFor(() => pool.snapshot().paused, 'the pool to see the pause', 3000);
    assert.deepEqual((await api.write('POST', `/api/dead/${id}/retry`)).json(), { retried: [id] });
    const fresh = (await api.get(`/api/tasks/${id}`)).json();
    assert.equal(fresh.state, 'queued');
    assert.equal(fresh.attempts, 0);
    assert.equal(fresh.deadReason, undefined);
    assert.equal((await api.get(`/api/dead/${id}`)).statusCode, 404);

    await api.write('POST', '/api/queues/work/resume');
    await waitFor(() => isDeadLetter(id), 'the retried task to fail all its attempts again', 10_000);
    assert.deepEqual((await api.write('DELETE', `/api/dead/${id}`)).json(), { purged: [id] });
  });
});

describe('secrets', async () => {
  const SECRET = 'hunter2-s3cret';
  const real = openBackend({ data: tempDataDir('api-secrets') });
  const description = [
    `broker rabbitmq ${redactUrl(`amqp://gaffer:${SECRET}@rabbit.internal:5672/prod`)} (quorum queues)`,
    `store redis ${redactUrl(`redis://default:${SECRET}@redis.internal:6379/0`)} (prefix gaffer:)`,
  ].join(', ');
  after(() => real.close());
  const backend: Backend = { ...real, description };
  const api = await startApi({ backend });
  const [deadId] = await makeDeadLetters(backend, 'mail', 1);
  const leaky = new Error(`connect ECONNREFUSED amqp://gaffer:${SECRET}@rabbit.internal:5672`);
  const failing = await startApi({
    backend: {
      ...backend,
      broker: new Proxy(real.broker, {
        get: (target, name, receiver) =>
          name === 'stats' || name === 'listDead' ? () => Promise.reject(leaky) : Reflect.get(target, name, receiver),
      }),
    },
  });

  test('no response carries the password of a broker or store URL', async () => {
    const cluster = await api.get('/api/cluster');
    assert.equal(cluster.statusCode, 200);
    assert.match(cluster.json().backend, /amqp:\/\/gaffer:\*\*\*@rabbit\.internal:5672\/prod/);
    assert.match(cluster.json().backend, /redis:\/\/default:\*\*\*@redis\.internal:6379/);

    const responses = [
      cluster,
      ...(await Promise.all([...READS, '/api/queues/mail', `/api/dead/${deadId}`, `/api/tasks/${deadId}`, '/api/tasks/missing', '/api/nowhere'].map((url) => api.get(url)))),
      ...(await Promise.all(WRITES.map((write) => api.write(write.method, write.url, write.payload)))),
    ];
    for (const response of responses) {
      assert.ok(!response.body.includes(SECRET), `${response.statusCode} ${response.body.slice(0, 100)}`);
      assert.ok(!JSON.stringify(response.headers).includes(SECRET));
    }
    assert.ok(api.logs.length > 0, 'the writes were logged');
    assert.ok(!api.logs.join('\n').includes(SECRET), 'nor does a log line');
  });

  test('an unexpected failure answers 500 internal_error without its message, which may carry a URL', async () => {
    for (const url of ['/api/cluster', '/api/queues', '/api/dead']) {
      const response = await failing.get(url);
      assert.equal(response.statusCode, 500, url);
      assert.equal(errorCode(response), 'internal_error');
      assert.ok(!response.body.includes(SECRET));
    }
  });
});
