import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { createProbeRoutes } from '../../src/http/routes/probe-routes.js';
import { buildHttpApp } from '../../src/http/server.js';
import type { Broker } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import { tempDataDir, waitFor } from '../support/temp-data.js';

interface ReadyBody {
  status: 'ready' | 'not_ready';
  checks: { broker: { ok: boolean; ms: number; code?: string; message?: string }; store: { ok: boolean; ms: number; code?: string; message?: string }; draining: boolean };
  error?: { code: string; message: string };
}

const SECRET = 's3cret-password';

/** `target` (a class instance: spreading it would lose its methods) with some of its methods replaced. */
function overriding<T extends object>(target: T, replaced: Partial<T> = {}): T {
  return new Proxy(target, {
    get(object, property) {
      if (property in replaced) return replaced[property as keyof T];
      const value: unknown = Reflect.get(object, property);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

describe('health and readiness probes', async () => {
  const backend = openBackend({ data: tempDataDir('probes') });
  after(() => backend.close());
  let draining = false;
  const app = await buildHttpApp({ context: { backend, logger: silentLogger, draining: () => draining } });
  after(() => app.close());

  /** The same backend with some calls replaced: what a broken broker or store answers. */
  async function appWith(parts: { broker?: Partial<Broker>; store?: Partial<Store> }) {
    const broken: Backend = { ...backend, broker: overriding(backend.broker, parts.broker), store: overriding(backend.store, parts.store) };
    const other = await buildHttpApp({ context: { backend: broken, logger: silentLogger, draining: () => false } });
    after(() => other.close());
    return other;
  }

  test('GET /healthz: 200 with the event loop delay while the loop runs freely', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    const body = response.json() as { status: string; eventLoopDelayMs: number };
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.eventLoopDelayMs, 'number');
    assert.ok(body.eventLoopDelayMs >= 0 && body.eventLoopDelayMs < 2000, `${body.eventLoopDelayMs} ms`);
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('GET /readyz: 200 when the broker and the store answer and the process is not draining', async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as ReadyBody;
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.broker.ok, true);
    assert.equal(body.checks.store.ok, true);
    assert.equal(body.checks.draining, false);
    assert.equal(body.error, undefined);
  });

  test('GET /readyz: 503 draining while the process drains, and ready again after', async () => {
    draining = true;
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      const body = response.json() as ReadyBody;
      assert.equal(body.status, 'not_ready');
      assert.equal(body.error?.code, 'draining');
      assert.match(body.error!.message, /draining/);
      assert.equal(body.checks.draining, true);
      assert.equal(body.checks.broker.ok, true, 'the broker itself is fine');
    } finally {
      draining = false;
    }
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  test('GET /readyz: 503 store_unreachable when the store fails, without the credentials of its URL', async () => {
    const broken = await appWith({
      store: { pausedQueues: () => Promise.reject(new Error(`connect ECONNREFUSED redis://gaffer:${SECRET}@10.0.0.5:6379`)) },
    });
    const response = await broken.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503);
    const body = response.json() as ReadyBody;
    assert.equal(body.error?.code, 'store_unreachable');
    assert.equal(body.checks.store.ok, false);
    assert.equal(body.checks.store.code, 'store_unreachable');
    assert.match(body.checks.store.message!, /ECONNREFUSED/);
    assert.equal(body.checks.broker.ok, true);
    assert.doesNotMatch(response.body, new RegExp(SECRET));
  });

  test('GET /readyz: 503 broker_unreachable when the broker hangs, answered within the timeout, one call in flight', async () => {
    let calls = 0;
    const broken = await appWith({
      broker: {
        stats: () => {
          calls++;
          return new Promise(() => {});
        },
      },
    });
    for (let probe = 0; probe < 2; probe++) {
      const started = Date.now();
      const response = await broken.inject({ method: 'GET', url: '/readyz' });
      const took = Date.now() - started;
      assert.equal(response.statusCode, 503);
      const body = response.json() as ReadyBody;
      assert.equal(body.error?.code, 'broker_unreachable');
      assert.match(body.error!.message, /did not answer within \d+ ms/);
      assert.equal(body.checks.store.ok, true);
      assert.ok(took < 1500, `answered in ${took} ms`);
    }
    assert.equal(calls, 1, 'probes wait for the hanging call instead of piling up new ones');
  });

  test('GET /readyz: 503 broker_unreachable when the broker fails', async () => {
    const broken = await appWith({ broker: { stats: () => Promise.reject(new Error(`connect ECONNREFUSED amqp://gaffer:${SECRET}@rabbit:5672`)) } });
    const response = await broken.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503);
    assert.equal((response.json() as ReadyBody).error?.code, 'broker_unreachable');
    assert.doesNotMatch(response.body, new RegExp(SECRET));
  });

  test('GET /healthz: 503 event_loop_stalled when the loop is blocked past the limit, 200 once it runs again', async () => {
    const probes = Fastify();
    await createProbeRoutes({ stallThresholdMs: 100, sampleEveryMs: 20 })(probes, { backend, logger: silentLogger, draining: () => false });
    after(() => probes.close());
    const until = Date.now() + 400;
    while (Date.now() < until); // a synchronous stall, as CPU work on the server's thread would cause
    const response = await probes.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 503, response.body);
    const body = response.json() as { status: string; eventLoopDelayMs: number; error: { code: string; message: string } };
    assert.equal(body.status, 'stalled');
    assert.equal(body.error.code, 'event_loop_stalled');
    assert.ok(body.eventLoopDelayMs >= 250, `${body.eventLoopDelayMs} ms`);
    await waitFor(async () => (await probes.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, 'healthz to recover', 2000);
  });
});
