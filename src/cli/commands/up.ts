import os from 'node:os';
import type { Command } from 'commander';
import { pino } from 'pino';
import { parsePoolSettings, type PoolSettingsInput } from '../../core/pool-settings.js';
import { DEFAULT_HTTP_ADDRESS } from '../../http/bind-address.js';
import type { RunningHttpServer } from '../../http/server.js';
import { PoolManager } from '../../runtime/pool/pool-manager.js';
import { openReadyBackend, POOL_CONNECT_TIMEOUT_MS, withBackendOptions, type BackendCliOptions } from '../backend-options.js';
import { parseCount, parseDuration } from '../format/durations.js';
import { closeHttp, planHttp, serveHttp } from '../http-serving.js';
import { logServiceChanges, logWaiting } from '../service-logging.js';

interface UpOptions extends BackendCliOptions {
  tasks: string;
  queue: string;
  min: number;
  max?: number;
  targetWait?: number;
  scaleDownWindow?: number;
  maxTasksPerWorker?: number;
  idleExit?: number;
  memoryLimitMb?: number;
  maxResultMb?: number;
  timeLimit?: number;
  maxAttempts?: number;
  maxCrashes?: number;
  drainGrace?: number;
  lease?: number;
  lookahead?: number;
  /** host:port, or false for --no-http. */
  http: string | false;
  logLevel: string;
}

export function registerUp(program: Command): void {
  withBackendOptions(
    program
      .command('up')
      .description('run a pool manager: worker processes that grow and shrink with the queue')
      .requiredOption('--tasks <module>', 'your task module (a JavaScript file exporting defineTask() results)')
      .option('--queue <name>', 'the queue to serve', 'default')
      .option('--min <n>', 'fewest workers, kept even when idle', parseCount, 0)
      .option('--max <n>', "most workers (default: the machine's cores)", parseCount)
      .option('--target-wait <duration>', 'start every waiting task within this time (default 1s)', parseDuration)
      .option('--scale-down-window <duration>', 'retire idle workers only after this long without need (default 10s)', parseDuration)
      .option('--max-tasks-per-worker <n>', 'recycle a worker after this many tasks (default: never)', parseCount)
      .option('--idle-exit <duration>', 'a worker idle this long leaves by itself (default: never)', parseDuration)
      .option('--memory-limit-mb <n>', 'recycle a worker, between tasks, above this resident memory', parseCount)
      .option('--max-result-mb <n>', 'a handler whose result (as JSON) is larger fails with ResultTooLarge (default 16)', parseCount)
      .option('--time-limit <duration>', 'time limit of task types that set none (default 10m)', parseDuration)
      .option('--max-attempts <n>', 'attempts of task types that set none (default 3)', parseCount)
      .option('--max-crashes <n>', 'worker deaths before a task is quarantined, for task types that set none (default 3)', parseCount)
      .option('--drain-grace <duration>', 'on SIGTERM, how long running tasks may finish before they are returned (default 30s)', parseDuration)
      .option('--lease <duration>', 'how long tasks of a silent pool stay leased before others take them (default 30s)', parseDuration)
      .option('--lookahead <duration>', 'work sent ahead to each busy worker when tasks are short; 0 turns it off (default 15ms)', parseDuration)
      .option('--http <host:port>', 'serve the HTTP API, metrics and dashboard here; beyond loopback only with GAFFER_TOKEN set', DEFAULT_HTTP_ADDRESS)
      .option('--no-http', 'serve no HTTP')
      .option('--log-level <level>', 'debug, info, warn or error', 'info'),
  ).action((options: UpOptions, command: Command) => runUp(options, command.getOptionValueSource('http') !== 'default'));
}

/** The flag of each setting, for errors: durations reach the settings in milliseconds, and results in bytes. */
const FLAG_OF_SETTING: Readonly<Record<string, string>> = {
  queue: '--queue',
  min: '--min',
  max: '--max',
  targetWaitMs: '--target-wait (in ms)',
  scaleDownWindowMs: '--scale-down-window (in ms)',
  maxTasksPerWorker: '--max-tasks-per-worker',
  idleExitMs: '--idle-exit (in ms)',
  memoryLimitMb: '--memory-limit-mb',
  maxResultBytes: '--max-result-mb (in bytes)',
  drainGraceMs: '--drain-grace (in ms)',
  leaseMs: '--lease (in ms)',
  lookaheadMs: '--lookahead (in ms)',
  'taskDefaults.timeLimitMs': '--time-limit (in ms)',
  'taskDefaults.maxAttempts': '--max-attempts',
  'taskDefaults.maxCrashes': '--max-crashes',
};

function settingsFrom(options: UpOptions): PoolSettingsInput {
  const taskDefaults: NonNullable<PoolSettingsInput['taskDefaults']> = {};
  if (options.timeLimit !== undefined) taskDefaults.timeLimitMs = options.timeLimit;
  if (options.maxAttempts !== undefined) taskDefaults.maxAttempts = options.maxAttempts;
  if (options.maxCrashes !== undefined) taskDefaults.maxCrashes = options.maxCrashes;
  const settings: PoolSettingsInput = { queue: options.queue, min: options.min, taskDefaults };
  if (options.max !== undefined) settings.max = options.max;
  if (options.targetWait !== undefined) settings.targetWaitMs = options.targetWait;
  if (options.scaleDownWindow !== undefined) settings.scaleDownWindowMs = options.scaleDownWindow;
  if (options.maxTasksPerWorker !== undefined) settings.maxTasksPerWorker = options.maxTasksPerWorker;
  if (options.idleExit !== undefined) settings.idleExitMs = options.idleExit;
  if (options.memoryLimitMb !== undefined) settings.memoryLimitMb = options.memoryLimitMb;
  if (options.maxResultMb !== undefined) settings.maxResultBytes = options.maxResultMb * 1024 * 1024;
  if (options.drainGrace !== undefined) settings.drainGraceMs = options.drainGrace;
  if (options.lease !== undefined) settings.leaseMs = options.lease;
  if (options.lookahead !== undefined) settings.lookaheadMs = options.lookahead;
  return settings;
}

async function runUp(options: UpOptions, httpExplicit: boolean): Promise<void> {
  const logger = pino({ name: 'gaffer', level: options.logLevel }, pino.destination(2));
  const settings = settingsFrom(options);
  // Checked here first, in the flags' names, before anything connects; the pool checks them again, in its own.
  parsePoolSettings(settings, os.availableParallelism(), FLAG_OF_SETTING);
  // Before the pool: an address we may not or cannot serve on stops here, with no worker started.
  const http = await planHttp(options.http, httpExplicit, logger);
  // No signal handler yet: a signal while the servers do not answer ends the process at once, with nothing to undo.
  const backend = await openReadyBackend(options, POOL_CONNECT_TIMEOUT_MS, { groupCommit: true, onSlow: logWaiting(logger) });
  logServiceChanges(backend, logger);
  const pool = new PoolManager({ tasks: options.tasks, broker: backend.broker, store: backend.store, settlement: backend.settlement, settings, logger });
  let draining = false;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    draining = true;
    if (signals === 1) {
      logger.info({ signal }, 'draining; send the signal again to return running tasks to the queue at once');
      void pool.stop();
    } else {
      void pool.stop(0);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let server: RunningHttpServer | undefined;
  try {
    const stopped = new Promise<void>((resolve) => pool.once('stopped', resolve));
    await pool.start();
    logger.info({ backend: backend.description, pool: pool.id }, `serving queue "${pool.settings.queue}" with ${pool.settings.min} to ${pool.settings.max} workers`);
    if (http && !draining) server = await serveHttp(http, { backend, pool, logger, draining: () => draining }, logger);
    await stopped;
  } finally {
    await pool.stop();
    // The server outlives the drain, so readiness reads false while it lasts.
    if (server) await closeHttp(server, logger);
    await backend.close();
  }
}
