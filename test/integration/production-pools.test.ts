import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { GafferClient } from '../../src/client/client.js';
import type { PoolSnapshot } from '../../src/ports/store.js';
import { isAlive, startCliPool, waitForExit, type FixtureClient } from '../support/pool-harness.js';
import { closeRabbitConnections, restartRabbitApp, restartRedis } from '../support/service-restarts.js';
import { productionServices } from '../support/services.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

/**
 * Pools as separate `gaffer up` processes on RabbitMQ and Redis: sharing a
 * queue, one of them killed, and the services themselves restarted under
 * them. Every task is checked: it ran, and ran twice only where at-least-once
 * allows it.
 */
const services = await productionServices();

describe('pools on RabbitMQ and Redis', { skip: services.skip }, async () => {
  const prefix = `gaffer-it-${randomUUID().slice(0, 8)}:`;
  const env = { GAFFER_BROKER: services.amqpUrl, GAFFER_STORE: services.redisUrl, GAFFER_REDIS_PREFIX: prefix };
  Object.assign(process.env, env);
  after(() => {
    for (const key of Object.keys(env)) delete process.env[key];
  });
  let backend: Backend;
  let client: FixtureClient;

  backend = openBackend({ broker: services.amqpUrl, store: services.redisUrl, redisPrefix: prefix });
  client = new GafferClient({ backend });
  // The queues are named here, not only in Redis: the Redis restart below wipes the list cleanUp reads.
  const queues: string[] = [];
  const queueNamed = (label: string) => {
    const queue = `${label}-${randomUUID().slice(0, 6)}`;
    queues.push(queue);
    return queue;
  };
  after(async () => {
    await client.close();
    await backend.close();
    await services.cleanUp(prefix, queues);
  });

  const pool = (queue: string, ...args: string[]) => startCliPool(['--queue', queue, '--log-level', 'warn', ...args]);
  const poolsOf = async (queue: string): Promise<PoolSnapshot[]> => (await client.store.listPools()).filter((p) => p.queue === queue);
  const workersReady = (queue: string, pools: number, workers: number) =>
    waitFor(async () => {
      const live = await poolsOf(queue);
      return live.length === pools && live.every((p) => p.workers.filter((w) => w.state === 'idle').length >= workers);
    }, `${pools} pool(s) with ${workers} idle worker(s) each`, 20_000);
  /** Tasks that append "key seq pid start end ok" when they finish: a run that was cut short leaves no line. */
  const recordTasks = (file: string, queue: string, count: number, ms: number) =>
    client.enqueueMany(
      Array.from({ length: count }, (_, seq) => ({ type: 'record' as const, payload: { file, key: `k${seq}`, seq, ms }, options: { queue } })),
    );
  const runsPerTask = (file: string): Map<number, number> => {
    const runs = new Map<number, number>();
    for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
      const seq = Number(line.split(' ')[1]);
      runs.set(seq, (runs.get(seq) ?? 0) + 1);
    }
    return runs;
  };

  /** The two record tasks of one key (seq 0, then seq 1) both ran, the second starting only once the first had ended. */
  const expectKeyRanInOrder = async (file: string) => {
    const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : []);
    await waitFor(() => lines().length === 2, 'both tasks to run', 30_000);
    const [first, second] = lines().map((line) => line.split(' ').map(Number));
    assert.equal(first![1], 0, 'the head finished first');
    assert.ok(second![3]! >= first![4]!, `the next task started at ${second![3]}, before the head ended at ${first![4]}`);
  };

  test('two pools on one queue share the work', async () => {
    const queue = queueNamed('share');
    const pools = [pool(queue, '--min', '1', '--max', '1'), pool(queue, '--min', '1', '--max', '1')];
    await workersReady(queue, 2, 1);
    const handles = await client.enqueueMany(Array.from({ length: 60 }, () => ({ type: 'spin' as const, payload: { ms: 15 }, options: { queue } })));
    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 60_000 })));
    const byPool = new Map<string, number>();
    for (const record of await client.store.getTasks(handles.map((h) => h.id))) byPool.set(record.poolId!, (byPool.get(record.poolId!) ?? 0) + 1);
    assert.equal(byPool.size, 2, 'both pools ran tasks');
    for (const [poolId, count] of byPool) assert.ok(count >= 15, `pool ${poolId} ran ${count} of 60`);
    for (const { child } of pools) child.kill('SIGTERM');
    await Promise.all(pools.map(({ child }) => once(child, 'exit')));
  });

  test('a pool running short tasks holds a small read-ahead of the backlog, not the backlog', async () => {
    const queue = queueNamed('hoard');
    const single = pool(queue, '--min', '1', '--max', '1');
    await workersReady(queue, 1, 1);
    const total = 400;
    const handles = await client.enqueueMany(Array.from({ length: total }, () => ({ type: 'spin' as const, payload: { ms: 5 }, options: { queue } })));
    let done = 0;
    const results = Promise.all(handles.map((handle) => handle.result({ timeoutMs: 60_000 }).then(() => done++)));
    const held: number[] = [];
    await waitFor(async () => {
      const [stats] = await client.broker.stats([queue]);
      // Delivered to the pool and not finished: what it runs, what it sent ahead, what it has read ahead.
      held.push(total - done - stats!.ready);
      return done >= total / 2;
    }, 'half of the tasks to be done', 30_000);
    await results;
    assert.ok(Math.max(...held) <= 16, `the pool held up to ${Math.max(...held)} tasks (samples: ${held.join(', ')})`);
    single.child.kill('SIGTERM');
    await once(single.child, 'exit');
  });

  test('kill -9 of one pool: its tasks go to the other, none is lost, and only what it was running may run twice', async () => {
    const queue = queueNamed('kill');
    const file = path.join(tempDataDir('kill'), 'runs.log');
    const victim = pool(queue, '--min', '2', '--max', '2');
    await workersReady(queue, 1, 2);
    const survivor = pool(queue, '--min', '2', '--max', '2');
    await workersReady(queue, 2, 2);
    const handles = await recordTasks(file, queue, 40, 400);
    await waitFor(async () => (await poolsOf(queue)).every((p) => p.workers.some((w) => w.state === 'busy')), 'both pools to be busy');
    const victimPool = (await poolsOf(queue)).find((p) => p.pid === victim.child.pid)!;
    victim.child.kill('SIGKILL');
    for (const worker of victimPool.workers) await waitForExit(worker.pid, `the killed pool's worker ${worker.pid} to exit`, 5000);

    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 60_000 })));
    const runs = runsPerTask(file);
    assert.equal(runs.size, 40, 'every task ran');
    const twice = [...runs.values()].filter((count) => count > 1).length;
    assert.ok(twice <= victimPool.workers.length, `${twice} task(s) ran twice; at most the ${victimPool.workers.length} the killed pool ran`);
    survivor.child.kill('SIGTERM');
    await once(survivor.child, 'exit');
  });

  test('loss of the connection in the middle of a task: the pool reconnects, keeps its worker, and the task finishes once, not as a crash', async () => {
    const queue = queueNamed('conn');
    const file = path.join(tempDataDir('conn'), 'runs.log');
    const taskMs = 5000;
    const { child, stderr } = pool(queue, '--min', '1', '--max', '1', '--log-level', 'info');
    await workersReady(queue, 1, 1);
    const [started] = await recordTasks(file, queue, 1, taskMs);
    await waitFor(async () => (await poolsOf(queue))[0]?.workers[0]?.state === 'busy', 'the task to run');
    const worker = (await poolsOf(queue))[0]!.workers[0]!.pid;
    // As when RabbitMQ closes a channel whose task outran its consumer_timeout: RabbitMQ gives the task back, to
    // the pool that runs it, and the copy waits there until the pool next asks for tasks, as the task ends.
    closeRabbitConnections('gaffer test: connection loss');
    assert.equal(await started!.result({ timeoutMs: 30_000 }), 0);
    // A second run would have ended by now.
    await sleep(taskMs + 1000);
    const runs = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(runs.length, 1, `the task ran once, not ${runs.length} times: ${runs.join(' | ')}`);
    assert.equal(Number(runs[0]!.split(' ')[2]), worker, 'on the same worker');
    const record = await started!.status();
    assert.equal(record.state, 'succeeded');
    assert.equal(record.deaths, 0);
    assert.equal(record.attempts, 0);
    assert.ok(isAlive(child.pid!), 'the pool survived');
    assert.match(stderr(), /lost the connection to RabbitMQ at amqps?:\/\/\S* \(.*\); reconnecting/, 'the outage is in the log');
    assert.match(stderr(), /CONNECTION_FORCED - gaffer test: connection loss/, "with RabbitMQ's reason");
    const password = new URL(services.amqpUrl).password;
    if (password) assert.ok(!stderr().includes(`:${password}@`), 'without the password');
    assert.match(stderr(), /reconnected to RabbitMQ at /);
    // The connection was closed under the client too: it reconnects by itself.
    assert.equal(await (await client.enqueue('add', { a: 1, b: 2 }, { queue })).result({ timeoutMs: 30_000 }), 3);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  test('RabbitMQ restarted while tasks are queued and running: none is lost, and the pool reconnects by itself', async () => {
    const queue = queueNamed('restart-mq');
    const file = path.join(tempDataDir('restart-mq'), 'runs.log');
    const { child } = pool(queue, '--min', '2', '--max', '2');
    await workersReady(queue, 1, 2);
    const handles = await recordTasks(file, queue, 20, 200);
    await waitFor(() => fs.existsSync(file) && runsPerTask(file).size >= 2, 'a few tasks to finish');
    restartRabbitApp();
    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 90_000 })));
    assert.equal(runsPerTask(file).size, 20, 'every task ran');
    assert.ok(isAlive(child.pid!), 'the same pool process carried on');
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  test("Redis restarted (it keeps nothing) while a key's task runs: the next task of the key still waits for it", async () => {
    const queue = queueNamed('restart-redis-key');
    const file = path.join(tempDataDir('restart-redis-key'), 'runs.log');
    // A short lease: the next task, which Redis forgot too, waits a lease length once its key is free (see the claim script).
    const { child } = pool(queue, '--min', '2', '--max', '2', '--lease', '2s');
    await workersReady(queue, 1, 2);
    const [head] = await client.enqueueMany(
      [3000, 100].map((ms, seq) => ({ type: 'record' as const, payload: { file, key: 'K', seq, ms }, options: { queue, key: 'K' } })),
    );
    await waitFor(async () => (await client.store.getTasks([head!.id]))[0]?.state === 'running', 'the head of the key to run');
    // The key's lease in Redis is gone with it; a free worker and the next task of the key are in the pool.
    restartRedis();
    // Their records went with Redis: the file tells when each ran.
    await expectKeyRanInOrder(file);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  test("Redis restarted (it keeps nothing) while a key's task runs: its pool writes the key's lease back, and another pool's next task of the key waits", async () => {
    const queue = queueNamed('restart-redis-keys');
    const file = path.join(tempDataDir('restart-redis-keys'), 'runs.log');
    // Leases of 2 s: renewed every 667 ms, and a task Redis forgot waits 2 s before it takes a free key.
    const holder = pool(queue, '--min', '1', '--max', '1', '--lease', '2s');
    await workersReady(queue, 1, 1);
    const task = (seq: number, ms: number) => ({ type: 'record' as const, payload: { file, key: 'K', seq, ms }, options: { queue, key: 'K' } });
    const [head] = await client.enqueueMany([task(0, 6000)]);
    await waitFor(async () => (await client.store.getTasks([head!.id]))[0]?.state === 'running', 'the head of the key to run');
    // The holder's one worker is busy: the next task of the key goes to the other pool, and waits there for the key.
    const other = pool(queue, '--min', '1', '--max', '1', '--lease', '2s');
    await workersReady(queue, 2, 0);
    await waitFor(async () => (await poolsOf(queue)).some((p) => p.pid === other.child.pid && p.workers.some((w) => w.state === 'idle')), 'the other pool to be ready');
    await client.enqueueMany([task(1, 100)]);
    await sleep(500);
    restartRedis();
    await expectKeyRanInOrder(file);
    for (const { child } of [holder, other]) child.kill('SIGTERM');
    await Promise.all([holder, other].map(({ child }) => once(child, 'exit')));
  });

  test('Redis restarted (it keeps nothing): pools register again and every task is recorded', async () => {
    const queue = queueNamed('restart-redis');
    const file = path.join(tempDataDir('restart-redis'), 'runs.log');
    const { child, stderr } = pool(queue, '--min', '2', '--max', '2', '--log-level', 'info');
    await workersReady(queue, 1, 2);
    const handles = await recordTasks(file, queue, 20, 200);
    await waitFor(() => fs.existsSync(file) && runsPerTask(file).size >= 2, 'a few tasks to finish');
    const restartedAt = restartRedis();
    await waitFor(() => runsPerTask(file).size === 20, 'every task to run', 60_000);
    // Redis kept nothing: the records of tasks finished before the restart are gone with it (and so are those of
    // tasks that ended while the shutdown was on its way, which the old server still took). Every task that
    // finished once the old server was gone must be recorded, none dropped.
    const finishedLater = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => Number(fields[4]) >= restartedAt)
      .map((fields) => handles[Number(fields[1])]!.id);
    assert.ok(finishedLater.length > 0);
    await waitFor(
      async () => (await client.store.getTasks(finishedLater)).filter((record) => record.state === 'succeeded').length === finishedLater.length,
      'the outcome of every task finished after the restart to be recorded',
      30_000,
    );
    await waitFor(async () => (await poolsOf(queue)).length === 1, 'the pool to register again', 10_000);
    assert.match(stderr(), /lost the connection to Redis at redis:\/\/.*; reconnecting/);
    assert.match(stderr(), /reconnected to Redis at redis:\/\//);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});
