import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bareNodeRssBytes } from '../anchors/bare-node-rss.js';
import type { BenchContext } from '../context.js';
import { makeFigure, type Figure } from '../figure.js';
import { TASKS_MODULE } from '../harness/bench-pool.js';
import { expectExited, readRssBytes, waitForExit } from '../harness/processes.js';
import type { Stack } from '../harness/stack.js';
import { withTempDir } from '../harness/temp-dir.js';
import { round, sleep, waitFor } from '../harness/time.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);
/** How long workers stay idle before their memory is read: start-up garbage settles. */
const SETTLE_MS = 1000;
const MB = 1024 * 1024;

interface StatusJson {
  pools: Array<{ pid: number; workers: Array<{ pid: number; state: string }> }>;
}

/**
 * Where `gaffer up` and `gaffer status` point: a fresh data dir on the
 * embedded stack; on RabbitMQ and Redis, a queue and Redis prefix of the
 * run's own, given as options (and in the environment, so that nothing of
 * the caller's GAFFER_* settings leaks in), released afterwards.
 */
async function withBackendArgs<T>(
  stack: Stack,
  work: (backendArgs: string[], queueArgs: string[], env: NodeJS.ProcessEnv, track: (stop: () => Promise<void>) => () => void) => Promise<T>,
): Promise<T> {
  if (stack.kind === 'embedded') return withTempDir('memory', (data) => work(['--data', data], [], process.env, () => () => {}));
  const namespace = stack.namespace('memory');
  const env = { ...process.env, GAFFER_BROKER: stack.amqpUrl, GAFFER_STORE: stack.redisUrl, GAFFER_REDIS_PREFIX: namespace.redisPrefix };
  const backendArgs = ['--broker', stack.amqpUrl, '--store', stack.redisUrl, '--redis-prefix', namespace.redisPrefix];
  try {
    return await work(backendArgs, ['--queue', namespace.queue], env, (stop) => stack.track(stop));
  } finally {
    await stack.release(namespace);
  }
}

/**
 * Memory of an idle pool, measured honestly from outside: `gaffer up` runs
 * as its own process (so the bench's own heap is not counted as the
 * manager's), `gaffer status --json` tells when its workers are up, and
 * /proc gives the resident size of the manager and of each worker. On
 * RabbitMQ and Redis the manager holds an AMQP connection and Redis clients
 * instead of SQLite.
 */
export async function memory(ctx: BenchContext): Promise<Figure[]> {
  const measured = await withBackendArgs(ctx.stack, async (backendArgs, queueArgs, env, track) => {
    const args = [CLI, 'up', '--tasks', TASKS_MODULE, ...backendArgs, ...queueArgs, '--min', String(ctx.cores), '--max', String(ctx.cores), '--log-level', 'warn'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    const untrack = track(async () => {
      child.kill('SIGTERM');
      await waitForExit(child, 'gaffer up', 5000);
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    let workerPids: number[] = [];
    let statusError: string | undefined;
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`gaffer up exited (${child.exitCode}): ${stderr.trim()}`);
          let stdout: string;
          try {
            ({ stdout } = await run(process.execPath, [CLI, 'status', '--json', ...backendArgs], { env }));
          } catch (error) {
            // Until `gaffer up` has opened its database, status says there is none (a clear error, exit 1): not yet.
            statusError = (error as Error).message.trim();
            return false;
          }
          statusError = undefined;
          const pool = (JSON.parse(stdout) as StatusJson).pools.find((p) => p.pid === child.pid);
          workerPids = pool?.workers.map((w) => w.pid) ?? [];
          return pool !== undefined && pool.workers.length === ctx.cores && pool.workers.every((w) => w.state === 'idle');
        },
        `gaffer up to report ${ctx.cores} idle workers`,
        30_000,
        100,
      ).catch((error: Error) => {
        throw statusError ? new Error(`${error.message}; gaffer status last said: ${statusError}`) : error;
      });
      await sleep(SETTLE_MS);
      return { manager: readRssBytes(child.pid!), workers: workerPids.map(readRssBytes) };
    } finally {
      untrack();
      child.kill('SIGTERM');
      const exit = await waitForExit(child, 'gaffer up');
      await expectExited(workerPids, 'gaffer up');
      if (exit.code !== 0) ctx.log(`memory: gaffer up exited with ${exit.code ?? exit.signal} after SIGTERM: ${stderr.trim()}`);
    }
  });
  const bare = await bareNodeRssBytes(SETTLE_MS);
  const workerMean = measured.workers.reduce((a, b) => a + b, 0) / measured.workers.length;
  ctx.log(`memory: manager ${(measured.manager / MB).toFixed(1)} MB, workers ${measured.workers.map((b) => (b / MB).toFixed(1)).join(', ')} MB, bare node ${(bare / MB).toFixed(1)} MB`);
  const anchor = { name: 'bare node idle', value: bare / MB };
  const production = ctx.stack.kind === 'production';
  const on = production ? ', RabbitMQ + Redis' : '';
  const suffix = production ? '-rabbitmq' : '';
  const details = {
    managerMb: round(measured.manager / MB, 1),
    workersMb: measured.workers.map((b) => round(b / MB, 1)),
    bareNodeMb: round(bare / MB, 1),
  };
  return [
    makeFigure({ id: `memory-worker${suffix}`, label: `RSS of an idle worker (mean)${on}`, unit: 'MB', gaffer: workerMean / MB, anchor, target: null, details }),
    makeFigure({ id: `memory-manager${suffix}`, label: `RSS of the pool manager (gaffer up)${on}`, unit: 'MB', gaffer: measured.manager / MB, anchor, target: null }),
  ];
}
