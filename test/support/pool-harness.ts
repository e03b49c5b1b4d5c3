import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { GafferClient } from '../../src/client/client.js';
import type { TaskMapOf } from '../../src/client/task-map.js';
import type { PoolSettingsInput } from '../../src/core/pool-settings.js';
import type { Logger } from '../../src/ports/logger.js';
import { PoolManager } from '../../src/runtime/pool/pool-manager.js';
import type { TaskFinishedEvent } from '../../src/runtime/pool/pool-events.js';
import type * as fixtureTasks from '../fixtures/tasks.js';
import { tempDataDir, waitFor } from './temp-data.js';

export const FIXTURE_TASKS = fileURLToPath(new URL('../fixtures/tasks.js', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export type FixtureClient = GafferClient<TaskMapOf<typeof fixtureTasks>>;

export interface PoolHarness {
  data: string;
  backend: Backend;
  pool: PoolManager;
  client: FixtureClient;
  /** Every task-finished event so far, in order. */
  finished: TaskFinishedEvent[];
  /** Every worker pid the pool ever started. */
  workerPids: Set<number>;
}

/**
 * A pool manager in this process with real worker processes, on a fresh
 * database; drained and checked for leftover processes when the file ends.
 */
export async function startPool(settings: PoolSettingsInput = {}, options: { data?: string; tasks?: string; logger?: Logger } = {}): Promise<PoolHarness> {
  const data = options.data ?? tempDataDir('pool');
  const backend = openBackend({ data, groupCommit: true });
  const pool = new PoolManager({
    tasks: options.tasks ?? FIXTURE_TASKS,
    broker: backend.broker,
    store: backend.store,
    settlement: backend.settlement,
    settings: { max: 2, scaleDownWindowMs: 60_000, ...settings },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const finished: TaskFinishedEvent[] = [];
  const workerPids = new Set<number>();
  pool.on('task-finished', (event) => finished.push(event));
  pool.on('worker-started', ({ pid }) => workerPids.add(pid));
  await pool.start();
  // Tests reason about the pool at its minimum: wait until those workers are ready.
  await waitFor(() => pool.snapshot().workers.filter((w) => w.state === 'idle').length >= pool.settings.min, 'the minimum of workers to be ready');
  const client: FixtureClient = new GafferClient({ backend });
  after(async () => {
    await pool.stop(2000);
    await client.close();
    await backend.close();
    for (const pid of workerPids) {
      if (isAlive(pid)) throw new Error(`worker ${pid} outlived its pool`);
    }
  });
  return { data, backend, pool, client, finished, workerPids };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitForExit(pid: number, what: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => !isAlive(pid), what, timeoutMs);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the gaffer CLI to completion. Asynchronous on purpose: a pool in this
 * process must go on committing while the command runs.
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Starts `gaffer up` as a child process (killed at the end of the file if still running). */
export function startCliPool(args: readonly string[]): { child: ChildProcess; stderr: () => string } {
  // No HTTP unless a test asks for it: pools of different tests must not compete for the default port.
  const http = args.some((arg) => arg === '--http' || arg === '--no-http') ? [] : ['--no-http'];
  const child = spawn(process.execPath, [CLI, 'up', '--tasks', FIXTURE_TASKS, ...http, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stderr: () => stderr };
}

/** Children of a process, from /proc (Linux). */
export function childPids(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}
