import { fileURLToPath } from 'node:url';
import {
  createClient,
  openBackend,
  PoolManager,
  type Backend,
  type PoolSettingsInput,
  type TaskFinishedEvent,
} from '../../src/index.js';
import * as fixtures from '../../test/fixtures/tasks.js';
import { expectExited } from './processes.js';
import type { Namespace, Stack } from './stack.js';
import { withTempDir } from './temp-dir.js';
import { waitFor } from './time.js';

/** The compiled fixture task module (noop, burn, ...) that the workers load. */
export const TASKS_MODULE = fileURLToPath(new URL('../../test/fixtures/tasks.js', import.meta.url));

function clientFor(backend: Backend, queue?: string) {
  return createClient({ backend: { broker: backend.broker, store: backend.store }, tasks: fixtures, ...(queue === undefined ? {} : { queue }) });
}
export type BenchClient = ReturnType<typeof clientFor>;

export interface BenchPool {
  pool: PoolManager;
  client: BenchClient;
  /** Every worker this pool started, to check afterwards that none is left. */
  workerPids: Set<number>;
  /** Workers that said hello so far. */
  ready(): number;
  /** The queue and Redis prefix of this pool on RabbitMQ and Redis; undefined on the embedded stack. */
  namespace: Namespace | undefined;
}

/**
 * Runs `work` against a pool with a client sharing its connection, as a
 * process that both produces and runs tasks would: on the embedded default
 * (SQLite in a fresh temp dir), or on RabbitMQ and Redis with a queue and a
 * Redis prefix of its own. Afterwards it stops the pool, checks that every
 * worker exited, and removes the data (the temp dir; the queues and keys).
 */
export function withBenchPool<T>(
  stack: Stack,
  label: string,
  settings: PoolSettingsInput,
  cores: number,
  work: (bench: BenchPool) => Promise<T>,
): Promise<T> {
  if (stack.kind === 'embedded') {
    // Group commit, as `gaffer up` opens it: this is a pool manager's process, and the bench never blocks its loop while the pool runs.
    return withTempDir(label, (dir) => runPool(openBackend({ data: dir, groupCommit: true }), undefined, settings, cores, label, work));
  }
  const namespace = stack.namespace(label);
  // Explicit URLs and prefix: nothing here depends on the GAFFER_* variables of whoever runs the bench.
  const backend = openBackend({ broker: stack.amqpUrl, store: stack.redisUrl, redisPrefix: namespace.redisPrefix, groupCommit: true });
  let stopPool: (() => Promise<void>) | undefined;
  const untrack = stack.track(async () => {
    await stopPool?.();
    await backend.close();
  });
  return runPool(backend, namespace, { ...settings, queue: namespace.queue }, cores, label, work, (stop) => (stopPool = stop)).finally(() => {
    untrack();
    // A failure here is not lost: the final clean-up deletes the namespace again and reports what it could not.
    return stack.release(namespace).catch(() => {});
  });
}

async function runPool<T>(
  backend: Backend,
  namespace: Namespace | undefined,
  settings: PoolSettingsInput,
  cores: number,
  label: string,
  work: (bench: BenchPool) => Promise<T>,
  onStop?: (stop: () => Promise<void>) => void,
): Promise<T> {
  const pool = new PoolManager({ tasks: TASKS_MODULE, broker: backend.broker, store: backend.store, settlement: backend.settlement, settings, cores });
  onStop?.(() => pool.stop(1000));
  const client = clientFor(backend, namespace?.queue);
  const workerPids = new Set<number>();
  let ready = 0;
  pool.on('worker-started', ({ pid }) => workerPids.add(pid));
  pool.on('worker-ready', () => ready++);
  try {
    return await work({ pool, client, workerPids, ready: () => ready, namespace });
  } finally {
    // A short grace: by now every task has finished, unless the scenario failed midway.
    await pool.stop(5000);
    await client.close();
    await backend.close();
    await expectExited(workerPids, `the ${label} pool`);
  }
}

/** Waits until the pool has `count` workers, all idle (started, said hello, nothing to do). */
export function waitForIdleWorkers(pool: PoolManager, count: number): Promise<void> {
  return waitFor(() => {
    const workers = pool.snapshot().workers;
    return workers.length === count && workers.every((w) => w.state === 'idle');
  }, `${count} idle worker(s)`);
}

export interface Finishes {
  /** performance.now() at the last task-finished event. */
  lastAt: number;
  events: TaskFinishedEvent[];
}

/**
 * Resolves at the `count`-th task-finished event from now on. Listening starts
 * at once, so call it before enqueueing: a short task can finish before
 * enqueueMany returns. A task that ends other than succeeded spoils the run.
 */
export function awaitFinishes(
  pool: PoolManager,
  count: number,
  onEach?: (event: TaskFinishedEvent, at: number, seen: number) => void,
  timeoutMs = 300_000,
): Promise<Finishes> {
  return new Promise((resolve, reject) => {
    const events: TaskFinishedEvent[] = [];
    const done = (error?: Error) => {
      clearTimeout(timer);
      pool.off('task-finished', listener);
      if (error) reject(error);
      else resolve({ lastAt: performance.now(), events });
    };
    const listener = (event: TaskFinishedEvent) => {
      const at = performance.now();
      if (event.state !== 'succeeded') return done(new Error(`task ${event.id} (${event.type}) ended ${event.state}: the run is spoiled`));
      events.push(event);
      onEach?.(event, at, events.length);
      if (events.length === count) done();
    };
    const timer = setTimeout(() => done(new Error(`only ${events.length} of ${count} tasks finished within ${timeoutMs} ms`)), timeoutMs);
    pool.on('task-finished', listener);
  });
}

/** Enqueues in chunks, so that one huge batch does not hold the write lock (or the event loop) for long. */
export async function enqueueAll(
  client: BenchClient,
  entries: Parameters<BenchClient['enqueueMany']>[0],
  chunk = 5000,
): Promise<Awaited<ReturnType<BenchClient['enqueueMany']>>> {
  const handles: Awaited<ReturnType<BenchClient['enqueueMany']>> = [];
  for (let i = 0; i < entries.length; i += chunk) handles.push(...(await client.enqueueMany(entries.slice(i, i + chunk))));
  return handles;
}
