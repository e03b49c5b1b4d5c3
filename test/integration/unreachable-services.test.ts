import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { connect } from 'amqplib';
import { openBackend } from '../../src/adapters/open-backend.js';
import { createClient, GafferClient } from '../../src/client/client.js';
import { StorageUnavailableError } from '../../src/core/errors.js';
import * as fixtureTasks from '../fixtures/tasks.js';
import { runCli, startCliPool, type FixtureClient } from '../support/pool-harness.js';
import { productionServices } from '../support/services.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

/** A port that nothing listens on: one the kernel just handed out, and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('RabbitMQ or Redis unreachable', async () => {
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${await closedPort()}`;
  const redisUrl = `redis://127.0.0.1:${await closedPort()}`;

  test('a command gives up after --connect-timeout, in one line that names each server and why', async () => {
    const startedAt = Date.now();
    const result = await runCli(['status', '--broker', amqpUrl, '--store', redisUrl, '--connect-timeout', '1s']);
    assert.equal(result.status, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^gaffer: RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED [^)]*\); start it, or check --broker/);
    assert.match(lines[0]!, /; Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED [^)]*\); start it, or check --store \/ GAFFER_STORE$/);
    assert.equal(lines[0]!.match(/Redis at/g)!.length, 1, 'each server is named once');
    assert.ok(Date.now() - startedAt < 10_000, 'it gave up after about a second, and exited at once');

    const dashboard = await runCli(['dashboard', '--broker', amqpUrl, '--store', redisUrl, '--connect-timeout', '1s', '--http', '127.0.0.1:0']);
    assert.equal(dashboard.status, 1);
    assert.match(dashboard.stderr, /gaffer: RabbitMQ at .* is unreachable .*; Redis at .* is unreachable/);
  });

  test('the client: enqueue and cancel fail after connectTimeoutMs with the same words, instead of waiting for the servers', async () => {
    const client = createClient({ tasks: fixtureTasks, broker: amqpUrl, store: redisUrl, connectTimeoutMs: 500 });
    after(() => client.close());
    const startedAt = Date.now();
    await assert.rejects(client.enqueue('add', { a: 1, b: 2 }), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.equal(error.code, 'storage_unavailable');
      assert.match(error.message, /^RabbitMQ at .* is unreachable .*; Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
      return true;
    });
    assert.ok(Date.now() - startedAt < 5000, 'it gave up after half a second');
    await assert.rejects(client.cancel('some-id'), StorageUnavailableError);
    // Bad input is still refused first, without waiting for any server.
    await assert.rejects(client.enqueue('add', { a: 'one', b: 2 } as never), /payload does not match the schema/);
  });

  test('gaffer up starts no worker, says it is waiting, then fails naming the server', async () => {
    const { child, stderr } = startCliPool(['--broker', amqpUrl, '--store', redisUrl, '--connect-timeout', '3s', '--log-level', 'info']);
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr(), /waiting for RabbitMQ and Redis to answer; giving up after 3 s/);
    assert.match(stderr(), /gaffer: RabbitMQ at .* is unreachable .*; Redis at .* is unreachable/);
    assert.doesNotMatch(stderr(), /pool started/);
  });
});

const services = await productionServices();
const redisServer = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
const skip =
  services.skip ||
  (redisServer.status === 0 ? false : 'redis-server is not installed: these tests start a Redis of their own');

/** A Redis of the test's own on a free port, stopped at the end of the file. */
async function privateRedis(...extraArgs: string[]): Promise<{ port: number; stop: () => void; cli: (...args: string[]) => { stdout: string } }> {
  const port = await closedPort();
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: 'ignore',
  });
  const password = extraArgs[extraArgs.indexOf('--requirepass') + 1];
  const auth = extraArgs.includes('--requirepass') ? ['-a', password!, '--no-auth-warning'] : [];
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...auth, ...args], { encoding: 'utf8' });
  const stop = () => void cli('shutdown', 'nosave');
  after(stop);
  await waitFor(() => cli('ping').stdout.trim() === 'PONG', 'the Redis of this test');
  return { port, stop, cli };
}

describe('servers that refuse the login', { skip }, async () => {
  test('the error says so, and asks for other credentials rather than a start', async () => {
    const { port } = await privateRedis('--requirepass', 'sekret');
    const wrongAmqp = new URL(services.amqpUrl);
    wrongAmqp.username = 'guest';
    wrongAmqp.password = 'not-the-password';
    const result = await runCli(['status', '--broker', wrongAmqp.href, '--store', `redis://:wrong@127.0.0.1:${port}`, '--connect-timeout', '2s']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /RabbitMQ at amqp:\/\/guest:\*\*\*@.* refused the login \(.*ACCESS.REFUSED.*\); check the user and password in --broker \/ GAFFER_BROKER/);
    assert.match(result.stderr, /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the login \(WRONGPASS[^)]*\); check the user and password in --store/);
    assert.ok(!result.stderr.includes('not-the-password') && !result.stderr.includes(':wrong@'), 'no password in the message');
  });
});

describe('Redis lost under a draining pool', { skip }, async () => {
  test('SIGTERM: the drain ends without the outcome it cannot record, and the task waits in RabbitMQ to run again', async () => {
    const { port, stop: stopRedis } = await privateRedis();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const queue = `lost-redis-${randomUUID().slice(0, 6)}`;
    const backend = openBackend({ broker: services.amqpUrl, store: redisUrl });
    const client: FixtureClient = new GafferClient({ backend });
    // Its Redis keys went with its Redis; its queues are on the shared RabbitMQ (a prefix of its own there finds no key).
    after(() => services.cleanUp(`gaffer-it-${randomUUID().slice(0, 8)}:`, [queue]));

    const { child, stderr } = startCliPool(['--broker', services.amqpUrl, '--store', redisUrl, '--queue', queue, '--drain-grace', '5s', '--log-level', 'info']);
    const handle = await client.enqueue('nap', { ms: 2000 }, { queue });
    await waitFor(async () => (await handle.status())?.state === 'running', 'the task to start', 20_000);
    await client.close();
    await backend.close();
    stopRedis();
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    // The task ends within the grace period; its outcome waits 10 s for a Redis that is gone, and the pool stops.
    assert.ok(Date.now() - stoppedAt < 25_000, `the pool took ${Date.now() - stoppedAt} ms to stop`);
    assert.equal(code, 0);
    assert.match(stderr(), /outcomes still not recorded and acked after 10 s .*their tasks are not lost/);

    // RabbitMQ returns a closed connection's unacked messages to their queue, a moment after the close.
    const connection = await connect(services.amqpUrl);
    try {
      const channel = await connection.createChannel();
      await waitFor(async () => (await channel.checkQueue(queue)).messageCount === 1, 'the unacked task to be back in its queue', 10_000);
    } finally {
      await connection.close();
    }
  });
});

describe('Redis full under a running pool', { skip }, async () => {
  test('outcomes that Redis refuses (out of memory) wait, and are recorded once it has room: no task is lost or run twice', async () => {
    const { port, cli } = await privateRedis('--maxmemory', '8mb', '--maxmemory-policy', 'noeviction');
    const redisUrl = `redis://127.0.0.1:${port}`;
    const queue = `full-redis-${randomUUID().slice(0, 6)}`;
    after(() => services.cleanUp(`gaffer-it-${randomUUID().slice(0, 8)}:`, [queue]));
    const runs = path.join(tempDataDir('full-redis'), 'runs.txt');
    const ran = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean) : []);
    const backend = openBackend({ broker: services.amqpUrl, store: redisUrl });
    const client: FixtureClient = new GafferClient({ backend });
    after(async () => {
      await client.close();
      await backend.close();
    });
    const { child, stderr } = startCliPool(['--broker', services.amqpUrl, '--store', redisUrl, '--queue', queue, '--max', '2', '--log-level', 'info']);
    const keys = ['a', 'b', 'c', 'd'];
    const count = 60;
    const handles = await client.enqueueMany(
      Array.from({ length: count }, (_, seq) => ({ type: 'record' as const, payload: { file: runs, key: keys[seq % keys.length]!, seq, ms: 20 }, options: { key: keys[seq % keys.length]!, queue } })),
    );
    await waitFor(() => ran().length >= 10, 'the first tasks to run', 20_000);

    // A script checks the limit only when it starts: this one takes Redis 10 MB past it, and every write after fails.
    cli('eval', "for i = 1, 10000 do redis.call('SET', 'filler:' .. i, string.rep('x', 1000)) end", '0');
    await sleep(1000);
    const stalledAt = ran().length;
    await sleep(1000);
    assert.equal(ran().length, stalledAt, 'no task starts while Redis refuses writes');
    assert.ok(stalledAt < count);
    cli('config', 'set', 'maxmemory', '0');

    const results = await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 30_000 })));
    assert.deepEqual(results, Array.from({ length: count }, (_, seq) => seq));
    const seqs = ran().map((line) => Number(line.split(' ')[1]));
    assert.equal(seqs.length, count, 'each task ran once');
    assert.equal(new Set(seqs).size, count);
    assert.match(stderr(), /OOM command not allowed.*"msg":"could not record what became of a task; retrying/);
    assert.match(stderr(), /recorded every task outcome that had to wait/);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
