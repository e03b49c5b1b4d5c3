import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openBackend } from '../../src/adapters/open-backend.js';
import type { ClusterView } from '../../src/views/cluster-view.js';
import { CLI, FIXTURE_TASKS, childPids, isAlive, runCli, type CliResult } from '../support/pool-harness.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

interface Gaffer {
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts a long-running gaffer command; killed when the file ends if a test left it running. */
function startGaffer(args: readonly string[], env: NodeJS.ProcessEnv = {}): Gaffer {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, pid: child.pid!, stderr: () => stderr, stdout: () => stdout, exited };
}

function startUp(args: readonly string[], env: NodeJS.ProcessEnv = {}): Gaffer {
  return startGaffer(['up', '--tasks', FIXTURE_TASKS, '--log-level', 'info', ...args], env);
}

async function waitForLog(gaffer: Gaffer, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  await waitFor(() => pattern.test(gaffer.stderr()) || gaffer.child.exitCode !== null, what, 15_000);
  const match = pattern.exec(gaffer.stderr());
  assert.ok(match, `${what}; the process exited (${gaffer.child.exitCode}) with:\n${gaffer.stderr()}`);
  return match;
}

/** The URL the command logged once it listened. */
async function servedUrl(gaffer: Gaffer): Promise<string> {
  return (await waitForLog(gaffer, /"url":"(http:\/\/[^"]+)"/, 'the HTTP server to be listening'))[1]!;
}

const poolServing = (gaffer: Gaffer) => waitForLog(gaffer, /"msg":"serving queue/, 'the pool to serve its queue');

async function stopAndCheck(gaffer: Gaffer, others: readonly number[] = []): Promise<void> {
  gaffer.child.kill('SIGTERM');
  const [code, signal] = await gaffer.exited;
  assert.equal(signal, null, `ended by ${signal}:\n${gaffer.stderr()}`);
  assert.equal(code, 0, gaffer.stderr());
  for (const pid of [gaffer.pid, ...others]) await waitFor(() => !isAlive(pid), `process ${pid} to be gone`, 5000);
}

/** A port free right now: bound and let go. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function holdPort(port: number): Promise<net.Server | undefined> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return server;
  } catch {
    return undefined;
  }
}

/** The TCP ports a process listens on, from /proc (Linux): "serves nothing" checked, not assumed. */
function listeningPorts(pid: number): number[] {
  const sockets = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) sockets.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const row of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const columns = row.trim().split(/\s+/);
      const LISTEN = '0A';
      if (columns[3] === LISTEN && sockets.has(columns[9]!)) ports.push(parseInt(columns[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

function assertOneLineError(result: CliResult, pattern: RegExp): string {
  assert.equal(result.status, 1, `exit 1, got ${result.status}:\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  return lines[0]!;
}

describe('gaffer up serves HTTP', () => {
  test('--http host:port serves /healthz and /api/cluster beside the pool; SIGTERM stops all of it', async () => {
    const data = tempDataDir('cli-http');
    const port = await freePort();
    const up = startUp(['--data', data, '--min', '1', '--max', '1', '--http', `127.0.0.1:${port}`]);
    const url = await servedUrl(up);
    assert.equal(url, `http://127.0.0.1:${port}`);
    assert.deepEqual(listeningPorts(up.pid), [port]);
    assert.doesNotMatch(up.stderr(), /writes":"enabled/);

    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    await waitFor(async () => (await getJson<ClusterView>(`${url}/api/cluster`)).body.pools[0]?.workers.length === 1, 'the pool and its worker in /api/cluster');
    const { status, body } = await getJson<ClusterView>(`${url}/api/cluster`);
    assert.equal(status, 200);
    assert.equal(body.pools.length, 1);
    assert.equal(body.pools[0]!.pid, up.pid);
    assert.ok(body.queues.some((queue) => queue.queue === 'default'));

    const workers = childPids(up.pid);
    assert.equal(workers.length, 1);
    await stopAndCheck(up, workers);
    // The server was closed with the pool, not left to the process's end.
    await assert.rejects(fetch(`${url}/healthz`));
  });

  test('an idle gaffer up, its HTTP server and metrics included, wakes a few times a second, not a hundred', { skip: process.platform !== 'linux' && 'counts wake-ups in /proc' }, async () => {
    const data = tempDataDir('cli-http-idle');
    const port = await freePort();
    const up = startUp(['--data', data, '--min', '1', '--max', '1', '--http', `127.0.0.1:${port}`]);
    await servedUrl(up);
    await poolServing(up);
    await waitFor(() => childPids(up.pid).length === 1, 'its worker', 10_000);
    await sleep(1500);
    // The main thread's own count: its other threads (V8's, libuv's) are not the event loop.
    const wakeups = () => Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${up.pid}/status`, 'utf8'))![1]);
    const before = wakeups();
    await sleep(2000);
    const perSecond = (wakeups() - before) / 2;
    // prom-client's default sampling of the event loop's delay (every 10 ms) alone woke it 100 times a second.
    assert.ok(perSecond < 40, `${perSecond} wake-ups a second while idle`);
    await stopAndCheck(up, childPids(up.pid));
  });

  test('--no-http listens on nothing', async () => {
    const data = tempDataDir('cli-no-http');
    const up = startUp(['--data', data, '--no-http']);
    await poolServing(up);
    assert.deepEqual(listeningPorts(up.pid), []);
    assert.doesNotMatch(up.stderr(), /HTTP/);
    await stopAndCheck(up);
  });

  test('without --http it serves 127.0.0.1:7070; when that port is taken it warns and runs the pool anyway', async (t) => {
    const data = tempDataDir('cli-default-http');
    const held = await holdPort(7070);
    if (!held) {
      t.skip('port 7070 is in use on this machine');
      return;
    }
    try {
      const second = startUp(['--data', data]);
      await poolServing(second);
      assert.match(second.stderr(), /not serving HTTP: 127\.0\.0\.1:7070 is in use/);
      assert.deepEqual(listeningPorts(second.pid), []);
      await stopAndCheck(second);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
    const up = startUp(['--data', data]);
    assert.equal(await servedUrl(up), 'http://127.0.0.1:7070');
    assert.deepEqual(listeningPorts(up.pid), [7070]);
    assert.equal((await fetch('http://127.0.0.1:7070/healthz')).status, 200);
    await stopAndCheck(up);
  });

  test('an address it may not or cannot serve on is a one-line error before any pool or worker starts', async () => {
    const data = tempDataDir('cli-refused');
    const up = (address: string, env: NodeJS.ProcessEnv = {}) => runCli(['up', '--tasks', FIXTURE_TASKS, '--data', data, '--http', address], { GAFFER_TOKEN: '', ...env });

    assertOneLineError(await up(`0.0.0.0:${await freePort()}`), /^gaffer: refusing to serve the HTTP API on 0\.0\.0\.0, beyond this machine, without a token: set GAFFER_TOKEN/);
    assertOneLineError(await up('7070'), /^gaffer: "7070" is not an address to serve on; write host:port/);
    const held = (await holdPort(await freePort()))!;
    try {
      const port = (held.address() as net.AddressInfo).port;
      assertOneLineError(await up(`127.0.0.1:${port}`), new RegExp(`^gaffer: cannot serve HTTP on 127\\.0\\.0\\.1:${port}: the address is in use`));
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
    // Nothing started: not even the database was created.
    assert.equal(fs.existsSync(path.join(data, 'gaffer.db')), false);
  });

  test('with GAFFER_TOKEN in the environment it serves beyond loopback, takes writes with the token, and never shows it', async () => {
    const data = tempDataDir('cli-token');
    const token = 'tok-3f9c1d2e-not-in-argv';
    const port = await freePort();
    const up = startUp(['--data', data, '--http', `0.0.0.0:${port}`], { GAFFER_TOKEN: token });
    assert.equal(await servedUrl(up), `http://0.0.0.0:${port}`);
    assert.match(up.stderr(), /"writes":"enabled/);
    const pause = (authorization?: string) =>
      fetch(`http://127.0.0.1:${port}/api/queues/default/pause`, { method: 'POST', headers: authorization ? { authorization } : {} });
    assert.equal((await pause()).status, 401);
    assert.equal((await pause(`Bearer ${token}`)).status, 204);
    assert.equal(fs.readFileSync(`/proc/${up.pid}/cmdline`, 'utf8').includes(token), false);
    await stopAndCheck(up);
    assert.equal(up.stderr().includes(token), false);
  });
});

describe('gaffer dashboard', () => {
  test('serves /api/cluster for a data directory where a separate pool runs; no pool of its own; SIGTERM stops both', async () => {
    const data = tempDataDir('cli-dashboard');
    const up = startUp(['--data', data, '--no-http', '--min', '1', '--max', '1']);
    await poolServing(up);
    const dashboard = startGaffer(['dashboard', '--data', data, '--http', '127.0.0.1:0']);
    const url = await servedUrl(dashboard);

    await waitFor(async () => (await getJson<ClusterView>(`${url}/api/cluster`)).body.pools[0]?.workers.length === 1, 'the pool of the other process');
    const { body } = await getJson<ClusterView>(`${url}/api/cluster`);
    assert.deepEqual(
      body.pools.map((pool) => pool.pid),
      [up.pid],
    );
    assert.equal(body.pools[0]!.workers[0]!.pid, childPids(up.pid)[0]);
    assert.deepEqual(childPids(dashboard.pid), [], 'the dashboard runs no worker');
    assert.equal((await fetch(`${url}/readyz`)).status, 200);

    // A producer waiting without a terminal gets the result and no spinner.
    const waited = await runCli(['enqueue', 'add', '{"a":1,"b":2}', '--wait', '--data', data]);
    assert.equal(waited.status, 0, waited.stderr);
    assert.equal(waited.stdout, '3\n');
    assert.equal(waited.stderr, '');

    const workers = childPids(up.pid);
    await Promise.all([stopAndCheck(up, workers), stopAndCheck(dashboard)]);
  });

  test('refuses a non-loopback address without GAFFER_TOKEN, in one line', async () => {
    const data = tempDataDir('cli-dashboard-refused');
    assertOneLineError(
      await runCli(['dashboard', '--data', data, '--http', `0.0.0.0:${await freePort()}`], { GAFFER_TOKEN: '' }),
      /^gaffer: refusing to serve the HTTP API on 0\.0\.0\.0/,
    );
  });
});

describe('gaffer enqueue --file', () => {
  const ready = async (data: string) => {
    const status = await runCli(['status', '--json', '--data', data]);
    const queues = (JSON.parse(status.stdout) as { queues: Array<{ queue: string; ready: number; blocked: number; delayed: number }> }).queues;
    return Object.fromEntries(queues.map((queue) => [queue.queue, queue.ready + queue.blocked + queue.delayed]));
  };

  test('enqueues every line in batches, with plain progress lines without a terminal, counting new and existing tasks', async () => {
    const data = tempDataDir('cli-file');
    const file = path.join(data, 'tasks.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) {
      const task: Record<string, unknown> = { type: 'add', payload: { a: i, b: 1 } };
      if (i % 100 === 0) task.id = `file-${i}`;
      if (i % 3 === 0) task.queue = 'bulk';
      if (i === 7) task.key = 'user-7';
      if (i === 8) task.delayMs = 60_000;
      lines.push(JSON.stringify(task));
      if (i === 500) lines.push('', '   '); // blank lines are skipped
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    // One id is taken already, and one line repeats an id of the file.
    assert.equal((await runCli(['enqueue', 'add', '{}', '--id', 'file-0', '--queue', 'bulk', '--data', data])).status, 0);
    fs.appendFileSync(file, `${JSON.stringify({ type: 'add', payload: {}, id: 'file-100' })}\n`);

    const result = await runCli(['enqueue', '--file', file, '--queue', 'main', '--data', data]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.doesNotMatch(result.stdout, /\x1b|\r/, 'no redrawing without a terminal');
    const out = result.stdout.trim().split('\n');
    const progress = out.slice(0, -1);
    assert.ok(progress.length >= 2, `progress lines, got:\n${result.stdout}`);
    for (const line of progress) assert.match(line, /^enqueued [\d,]+ tasks(, \d+ existed already)? \(\d+%\)$/);
    assert.match(out.at(-1)!, /tasks\.jsonl: 1,201 tasks: 1,199 new, 2 existed already, in \d+\.\ds$/);

    // Lines without a queue took --queue's; the others kept their own.
    assert.deepEqual(await ready(data), { bulk: 400, main: 800 });
    const backend = openBackend({ data });
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `file-${i * 100}`);
      assert.equal((await backend.store.getTasks(ids)).length, 12);
      const [first] = await backend.store.getTasks(['file-0']);
      assert.equal(first!.queue, 'bulk');
    } finally {
      await backend.close();
    }
  });

  test('stops at a bad line with its number and reason, after enqueueing the lines before it', async () => {
    const data = tempDataDir('cli-file-bad');
    const file = path.join(data, 'tasks.jsonl');
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ type: 'add', payload: { a: i, b: 0 }, id: `bad-file-${i + 1}` }));
    lines[6] = '{"type":"add","payload":{"a":1}'; // line 7: cut short
    fs.writeFileSync(file, `${lines.join('\n')}\n`);

    assertOneLineError(
      await runCli(['enqueue', '--file', file, '--data', data]),
      /^gaffer: .*tasks\.jsonl line 7: not JSON \(.+\); stopped there: the 6 tasks before line 7 were enqueued \(6 new, 0 existed already\), none from line 7 on$/,
    );
    const backend = openBackend({ data });
    try {
      const found = (await backend.store.getTasks(Array.from({ length: 10 }, (_, i) => `bad-file-${i + 1}`))).map((record) => record.id).sort();
      assert.deepEqual(found, ['bad-file-1', 'bad-file-2', 'bad-file-3', 'bad-file-4', 'bad-file-5', 'bad-file-6']);
    } finally {
      await backend.close();
    }

    fs.writeFileSync(file, '{"type":"add","paylod":{}}\n');
    assertOneLineError(await runCli(['enqueue', '--file', file, '--data', data]), /line 1: unknown field "paylod";.*stopped there: nothing was enqueued$/);
    fs.writeFileSync(file, '{"type":"add","payload":{},"delayMs":-5}\n');
    assertOneLineError(await runCli(['enqueue', '--file', file, '--data', data]), /line 1: invalid enqueue options: delayMs: /);
    assertOneLineError(await runCli(['enqueue', 'add', '--file', file, '--data', data]), /--file reads the tasks/);
    assertOneLineError(await runCli(['enqueue', '--file', path.join(data, 'missing.jsonl'), '--data', data]), /cannot read .*missing\.jsonl: no such file/);
  });
});
