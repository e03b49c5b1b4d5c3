import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { redactUrl } from '../../src/adapters/redact-url.js';
import { RedisStore } from '../../src/adapters/redis/store/redis-store.js';
import { StorageUnavailableError } from '../../src/core/errors.js';
import type { TaskRecord } from '../../src/core/task-record.js';
import type { PoolSnapshot } from '../../src/ports/store.js';
import { sleep, waitFor } from '../support/temp-data.js';
import { storeConformance } from './store-suite.js';

/**
 * The Redis store, each test under a prefix of its own, whose keys are
 * deleted when the test closes its store. Without a Redis server the tests
 * are skipped with the reason, except in CI, where Redis is required.
 */
const url = process.env.GAFFER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used, or undefined when it answers. */
async function unreachable(): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED, ENOTFOUND...) says more than connect()'s "Connection is closed".
  let socketError: Error | undefined;
  probe.on('error', (error: Error) => {
    socketError ??= error;
  });
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return (socketError ?? (error as Error)).message || String(error);
  } finally {
    probe.disconnect();
  }
}

const problem = await unreachable();
if (problem !== undefined && process.env.CI === 'true') {
  throw new Error(`Redis is required in CI but was not reachable at ${redactUrl(url)} (${problem}); start it, or point GAFFER_TEST_REDIS_URL at one`);
}

if (problem !== undefined) {
  const skip = `Redis was not reachable at ${redactUrl(url)} (${problem}); start redis-server or set GAFFER_TEST_REDIS_URL to run these tests`;
  test('store conformance: redis', { skip }, () => {});
  test('redis store specifics', { skip }, () => {});
} else {
  defineTests();
}

function defineTests(): void {
  /** For cleaning up and for looking at keys behind the store's back. */
  const admin = new Redis(url);
  after(() => admin.quit());

  const freshPrefix = () => `gaffer-test:${randomUUID().slice(0, 8)}:`;

  async function deleteKeys(prefix: string): Promise<void> {
    for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length > 0) await admin.del(...(keys as string[]));
    }
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const found: string[] = [];
    for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 500 })) found.push(...(keys as string[]));
    return found.map((key) => key.slice(prefix.length)).sort();
  }

  /** A store on a fresh prefix, and a close that also deletes what it wrote. */
  function open(prefix = freshPrefix()) {
    const store = new RedisStore({ url, prefix });
    return {
      store,
      prefix,
      close: async () => {
        await store.close();
        await deleteKeys(prefix);
      },
    };
  }

  storeConformance('redis', async () => open());

  function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
    return { id: `redis-${randomUUID().slice(0, 8)}`, queue: 'q', type: 'redis.echo', state: 'queued', attempts: 0, deaths: 0, enqueuedAt: Date.now(), ...overrides };
  }

  function pool(overrides: Partial<PoolSnapshot> = {}): PoolSnapshot {
    const now = Date.now();
    return { id: `pool-${randomUUID().slice(0, 8)}`, hostname: 'h', pid: 1, queue: 'q', startedAt: now, heartbeatAt: now, ttlMs: 30_000, min: 0, max: 2, desired: 1, draining: false, paused: false, workers: [], stats: { windowMs: 60_000, outcomes: {}, completedPerSecond: 0, arrivalsPerSecond: 0, waitMs: null, runMs: null }, ...overrides };
  }

  /** Runs `body` with stores on fresh prefixes, closed and cleaned up whatever happens. */
  async function withStores(count: number, body: (...opened: ReturnType<typeof open>[]) => Promise<void>): Promise<void> {
    const opened = Array.from({ length: count }, () => open());
    try {
      await body(...opened);
    } finally {
      for (const { close } of opened) await close();
    }
  }

  const HOUR = 3600_000;

  describe('redis store specifics', () => {
    test('a final record expires after the retention of the last prune; one that starts over does not expire', () =>
      withStores(1, async ({ store, prefix }) => {
        const [first, second] = [record(), record()];
        await store.recordEnqueued([first, second]);
        assert.equal(await admin.pttl(`${prefix}task:${first.id}`), -1, 'an unfinished record has no TTL');

        await store.updateTasks([{ id: first.id, queue: 'q', type: 'redis.echo', state: 'succeeded', finishedAt: Date.now() }]);
        const defaultTtl = await admin.pttl(`${prefix}task:${first.id}`);
        assert.ok(defaultTtl > 24 * HOUR - 60_000 && defaultTtl <= 24 * HOUR, `24 h before any prune, got ${defaultTtl} ms`);

        assert.equal(await store.prune({ now: Date.now(), maxAgeMs: 2 * HOUR, maxRecords: 1000 }), 0);
        await store.updateTasks([{ id: second.id, queue: 'q', type: 'redis.echo', state: 'dead', finishedAt: Date.now() }]);
        const prunedTtl = await admin.pttl(`${prefix}task:${second.id}`);
        assert.ok(prunedTtl > 2 * HOUR - 60_000 && prunedTtl <= 2 * HOUR, `the retention of the last prune, got ${prunedTtl} ms`);
        assert.notEqual(await admin.zscore(`${prefix}tasks:final`, second.id), null, 'indexed for prune by count');

        await store.replaceTasks([{ ...second, enqueuedAt: Date.now() }]);
        assert.equal(await admin.pttl(`${prefix}task:${second.id}`), -1, 'started over: no TTL');
        assert.equal(await admin.zscore(`${prefix}tasks:final`, second.id), null, 'started over: out of the final index');
      }));

    test("a record shares its hash with fields that are not the store's (the RabbitMQ ledger's): it reads, prunes and replaces only its own", () =>
      withStores(1, async ({ store, prefix }) => {
        const [kept, other] = [record(), record()];
        const hash = (id: string) => `${prefix}task:${id}`;
        // What the ledger writes before a producer records the task: a hash without the record's id is no record.
        await admin.hset(hash(kept.id), 's', 'queued', 'q', 'q', 'ty', 'redis.echo');
        assert.deepEqual(await store.getTasks([kept.id]), []);

        await store.recordEnqueued([kept, other]);
        assert.deepEqual(await store.getTasks([kept.id]), [kept], 'created, and read without the other fields');
        await store.replaceTasks([{ ...kept, attempts: 2 }]);
        assert.deepEqual(await store.getTasks([kept.id]), [{ ...kept, attempts: 2 }]);
        assert.equal(await admin.hget(hash(kept.id), 's'), 'queued', 'a replace leaves the other fields');

        const finishedAt = Date.now() - 2 * HOUR;
        const final = { queue: 'q', type: 'redis.echo', state: 'succeeded' as const, finishedAt };
        await store.updateTasks([{ id: kept.id, ...final }, { id: other.id, ...final }]);
        assert.equal(await store.prune({ now: Date.now(), maxAgeMs: HOUR, maxRecords: 1000 }), 2);
        assert.deepEqual(await store.getTasks([kept.id, other.id]), []);
        assert.deepEqual(await admin.hgetall(hash(kept.id)), { s: 'queued', q: 'q', ty: 'redis.echo' }, 'the other fields stay');
        assert.ok((await admin.pttl(hash(kept.id))) > 0, 'until the TTL the record gave the hash');
        assert.equal(await admin.exists(hash(other.id)), 0, 'a hash of the record alone goes with it');
      }));

    test('a pool whose heartbeat stops disappears by itself and leaves the index', () =>
      withStores(1, async ({ store, prefix }) => {
        const [short, long] = [pool({ ttlMs: 300 }), pool()];
        await store.reportPool(short);
        await store.reportPool(long);
        const ttl = await admin.pttl(`${prefix}pool:${short.id}`);
        assert.ok(ttl > 0 && ttl <= 300, `the key lives as long as the heartbeat, got ${ttl} ms`);
        assert.equal((await store.listPools()).length, 2);

        await sleep(400);
        assert.equal(await admin.exists(`${prefix}pool:${short.id}`), 0, 'Redis expired the key');
        assert.deepEqual(await store.listPools(), [long]);
        assert.deepEqual(await admin.smembers(`${prefix}pools`), [long.id], 'listPools dropped the gone pool from the index');
      }));

    test('decision logs are capped at 1000, for all pools and for each', () =>
      withStores(1, async ({ store }) => {
        const t = Date.now();
        const observation = { now: t, ready: 1, running: 0, workers: 0, arrivalRate: 0, serviceMs: null };
        await Promise.all(
          Array.from({ length: 1005 }, (_, n) =>
            store.recordDecision({ poolId: 'p', at: t + n, from: 0, to: 1, want: 1, reason: 'backlog', detail: `#${n}`, observation }),
          ),
        );
        const all = await store.listDecisions({ limit: 5000 });
        const ofPool = await store.listDecisions({ limit: 5000, poolId: 'p' });
        assert.equal(all.length, 1000);
        assert.equal(ofPool.length, 1000);
        assert.equal(all[0]!.detail, '#1004', 'newest first');
        assert.equal(all[999]!.detail, '#5', 'the oldest five were dropped');
      }));

    test('stores under different prefixes share nothing, and each keeps its keys under its prefix', () =>
      withStores(2, async (a, b) => {
        const done = record({ state: 'succeeded', finishedAt: Date.now() - 60_000 });
        const reported = pool();
        await a.store.recordEnqueued([done]);
        await a.store.reportPool(reported);
        await a.store.recordDecision({ poolId: reported.id, at: 1, from: 0, to: 1, want: 1, reason: 'backlog', detail: 'd', observation: { now: 1, ready: 1, running: 0, workers: 0, arrivalRate: 0, serviceMs: null } });

        assert.deepEqual(await b.store.getTasks([done.id]), []);
        assert.deepEqual(await b.store.listPools(), []);
        assert.deepEqual(await b.store.listDecisions({ limit: 10 }), []);
        assert.equal(await b.store.prune({ now: Date.now(), maxAgeMs: 1000, maxRecords: 0 }), 0);
        assert.equal((await a.store.getTasks([done.id])).length, 1, "b's prune left a's record alone");

        assert.deepEqual(await keysUnder(a.prefix), ['decisions', `decisions:${reported.id}`, `pool:${reported.id}`, 'pools', `task:${done.id}`, 'tasks:final']);
        assert.deepEqual(await keysUnder(b.prefix), ['retention-ms']);
      }));

    test('watchers wake on the final channel when another process finishes a task, over one subscription', () =>
      withStores(1, async ({ store, prefix }) => {
        const other = new RedisStore({ url, prefix });
        try {
          const [first, second] = [record(), record()];
          await store.recordEnqueued([first, second]);
          const seen: string[] = [];
          const stops = [store.watchFinal([first.id], (r) => seen.push(`1:${r.id}`)), store.watchFinal([first.id, second.id], (r) => seen.push(`2:${r.id}`))];
          await waitFor(async () => ((await admin.pubsub('NUMSUB', `${prefix}final`)) as [string, number])[1] === 1, 'the subscription', 5000);

          await other.updateTasks([{ id: first.id, queue: 'q', type: 'redis.echo', state: 'succeeded', result: 'one', finishedAt: Date.now() }]);
          await other.updateTasks([{ id: second.id, queue: 'q', type: 'redis.echo', state: 'cancelled', finishedAt: Date.now() }]);
          await waitFor(() => seen.length === 3, 'three callbacks', 5000);
          assert.deepEqual(seen.sort(), [`1:${first.id}`, `2:${first.id}`, `2:${second.id}`].sort());
          assert.equal(((await admin.pubsub('NUMSUB', `${prefix}final`)) as [string, number])[1], 1, 'both watchers share one subscription');
          for (const stop of stops) stop();
        } finally {
          await other.close();
        }
      }));

    test('the records made final by one write are announced in one message; a bare id, as earlier versions announce, still wakes its watcher', () =>
      withStores(1, async ({ store, prefix }) => {
        const [first, second, third] = [record(), record(), record()];
        await store.recordEnqueued([first, second, third]);
        const listener = new Redis(url);
        const messages: string[] = [];
        listener.on('message', (_channel: string, message: string) => messages.push(message));
        await listener.subscribe(`${prefix}final`);
        const seen: string[] = [];
        const stop = store.watchFinal([first.id, second.id, third.id], (r) => seen.push(r.id));
        try {
          await waitFor(async () => ((await admin.pubsub('NUMSUB', `${prefix}final`)) as [string, number])[1] === 2, 'the subscriptions', 5000);
          const finishedAt = Date.now();
          await store.updateTasks([
            { id: first.id, queue: 'q', type: 'redis.echo', state: 'succeeded', finishedAt },
            { id: second.id, queue: 'q', type: 'redis.echo', state: 'dead', finishedAt },
          ]);
          await waitFor(() => seen.length === 2 && messages.length === 1, 'both callbacks, from one announcement', 5000);
          assert.deepEqual(JSON.parse(messages[0]!), [first.id, second.id]);

          // A record made final behind the store's back, announced the way pools of earlier versions do.
          await admin.hset(`${prefix}task:${third.id}`, 'state', 'cancelled', 'finishedAt', String(Date.now()));
          await admin.publish(`${prefix}final`, third.id);
          await waitFor(() => seen.length === 3, 'the callback for the bare id', 5000);
          assert.deepEqual(seen.sort(), [first.id, second.id, third.id].sort());
        } finally {
          stop();
          listener.disconnect();
        }
      }));

    test('a watcher whose subscriber lost its connection reads again once it is back', () =>
      withStores(1, async ({ store, prefix }) => {
        const task = record();
        await store.recordEnqueued([task]);
        const before = await watchConnectionIds();
        const seen: TaskRecord[] = [];
        const stop = store.watchFinal([task.id], (r) => seen.push(r));
        try {
          await waitFor(async () => ((await admin.pubsub('NUMSUB', `${prefix}final`)) as [string, number])[1] === 1, 'the subscription', 5000);
          const mine = (await watchConnectionIds()).filter((id) => !before.includes(id));
          assert.equal(mine.length, 1, 'one new watch connection: this store');

          // The task finishes while the subscriber is away, so its publish goes to no one.
          await admin.call('CLIENT', 'KILL', 'ID', mine[0]!);
          await store.updateTasks([{ id: task.id, queue: 'q', type: 'redis.echo', state: 'succeeded', result: 7, finishedAt: Date.now() }]);
          await waitFor(() => seen.length === 1, 'the callback after the subscriber reconnected', 5000);
          assert.equal(seen[0]!.result, 7);
        } finally {
          stop();
        }
      }));

    test('a command Redis refuses fails with the store, the command and what to do in its message', () =>
      withStores(1, async ({ store, prefix }) => {
        const task = record();
        await admin.set(`${prefix}task:${task.id}`, 'not a hash');
        await assert.rejects(store.updateTasks([{ id: task.id, queue: 'q', type: 'redis.echo', state: 'running' }]), (error: Error) => {
          assert.ok(error instanceof StorageUnavailableError);
          assert.match(error.message, /^the Redis store at redis.* could not update task records: .*WRONGTYPE.*; check that/);
          return true;
        });
      }));

    test('closing a store whose Redis is unreachable rejects the commands still waiting, instead of leaving them pending', async () => {
      const store = new RedisStore({ url: `redis://127.0.0.1:${await freePort()}`, prefix: freshPrefix() });
      const stop = store.watchFinal(['t'], () => assert.fail('nothing is final here'));
      const waiting = store.recordEnqueued([record()]);
      await sleep(50);
      await store.close();
      await assert.rejects(waiting, /was closed while Redis was unreachable, before it confirmed this command/);
      await assert.rejects(store.getTasks(['t']), /was closed; open a new one/);
      stop();
    });
  });

  /** A port nothing listens on. */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  async function watchConnectionIds(): Promise<string[]> {
    const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    return list
      .split('\n')
      .filter((line) => / name=gaffer-watch /.test(line))
      .map((line) => /^id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
  }
}
