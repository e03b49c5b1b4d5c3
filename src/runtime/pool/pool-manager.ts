import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, WorkerStartError } from '../../core/errors.js';
import { parsePoolSettings, type PoolSettings } from '../../core/pool-settings.js';
import { LocalProcessDriver } from '../../adapters/drivers/local-process-driver.js';
import type { Broker, BrokerChange } from '../../ports/broker.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import type { PoolSnapshot, Store } from '../../ports/store.js';
import type { WorkerExit } from '../../ports/worker-driver.js';
import { EXIT_TASK_MODULE_INVALID, type FromWorker } from '../ipc/messages.js';
import { settlesWithin } from '../settles-within.js';
import { reapDeadLocalPools } from './dead-pool-reaper.js';
import { Dispatcher } from './dispatcher.js';
import { assertPoolManagerOptions, type PoolManagerOptions } from './pool-manager-options.js';
import { RecentMean } from './load-meters.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { PoolTicker } from './pool-ticker.js';
import { RepeatedFailureLog } from './repeated-failure-log.js';
import { WriteRetry } from './write-retry.js';
import type { PoolEvents } from './pool-events.js';
import { RestartGate } from './restart-gate.js';
import { Scaler } from './scaler.js';
import { TaskCatalog } from './task-catalog.js';
import { TaskStatsWindow } from './task-stats-window.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerSet } from './worker-set.js';

const HEARTBEAT_MS = 1000;
const POOL_TTL_MS = 5000;
const PRUNE_EVERY_MS = 60_000;
/**
 * How often a quiet pool (see Scaler.quiet) ticks: it looks at its queue once
 * a second. News of work comes by subscription (enqueues, cancellations), and
 * a task that starts, bring the next tick within tickMs (PoolTicker.hurry);
 * looking every tick instead cost an idle pool on RabbitMQ and Redis 20-50 ms
 * of CPU a second.
 */
const QUIET_TICK_MS = 1000;
const DEFAULT_RETENTION = { maxAgeMs: 24 * 3600_000, maxRecords: 100_000 };
/**
 * How long a drain waits, once its workers are gone, for their last outcomes
 * to be recorded and acked. Only a lost store or broker takes longer, and it
 * may never come back: the drain then ends without them (nothing unacked is lost).
 */
const SETTLE_WAIT_MS = 10_000;
/** How long a drain waits to take the pool off the store's list; a pool not taken off drops off with its TTL. */
const UNREGISTER_WAIT_MS = 2000;

/**
 * One pool: its workers, fed from one queue. Composes the parts that do the
 * work (WorkerSet, Dispatcher, Scaler, OutcomeRecorder, RestartGate) and owns
 * their lifecycle: start, the periodic upkeep, and the drain on stop.
 */
export class PoolManager extends EventEmitter<PoolEvents> {
  readonly id: string;
  readonly settings: PoolSettings;
  private readonly tasksModule: string;
  private readonly broker: Broker;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly retention: { maxAgeMs: number; maxRecords: number };
  private readonly workers: WorkerSet;
  private readonly dispatcher: Dispatcher;
  private readonly scaler: Scaler;
  private readonly gate: RestartGate;
  private readonly catalog: TaskCatalog;
  private readonly writeRetry: WriteRetry;
  private readonly startedAt: number;
  private readonly taskStats = new TaskStatsWindow();
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private ticker: PoolTicker | undefined;
  private state: 'new' | 'running' | 'draining' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  private drainDeadline = Number.POSITIVE_INFINITY;
  private firstHello: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(options: PoolManagerOptions) {
    super();
    assertPoolManagerOptions(options);
    this.tasksModule = path.resolve(options.tasks);
    this.settings = parsePoolSettings(options.settings ?? {}, options.cores ?? os.availableParallelism());
    this.broker = options.broker;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.writeRetry = new WriteRetry(this.logger);
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.startedAt = this.clock.now();

    const { settings } = this;
    this.catalog = new TaskCatalog(settings.taskDefaults);
    this.gate = new RestartGate(settings.restartBackoff, settings.stableUptimeMs);
    this.workers = new WorkerSet(
      options.driver ?? new LocalProcessDriver(),
      {
        tasksModule: this.tasksModule,
        maxTasks: settings.maxTasksPerWorker,
        idleExitMs: settings.idleExitMs,
        memoryLimitMb: settings.memoryLimitMb,
        maxPayloadBytes: settings.maxPayloadBytes,
        maxResultBytes: settings.maxResultBytes,
      },
      this.clock,
      { onMessage: (handle, message) => this.onWorkerMessage(handle, message), onExit: (handle, exit) => this.onWorkerExit(handle, exit) },
    );
    const serviceTimes = new RecentMean();
    // Its 'running' state is recorded by a tick (see StartRecords): they come every tickMs while it runs, quiet pool or not.
    this.on('task-started', () => this.ticker?.hurry());
    this.on('task-finished', (event) =>
      this.taskStats.record({ at: this.clock.now(), state: event.state, runMs: event.runMs, waitMs: event.waitMs }),
    );
    const common = { broker: this.broker, store: this.store, workers: this.workers, settings, poolId: this.id, clock: this.clock, events: this, logger: this.logger, serviceTimes };
    const recorder = new OutcomeRecorder(this.broker, this.store, this.id, this.writeRetry, options.settlement);
    this.dispatcher = new Dispatcher({ ...common, catalog: this.catalog, recorder });
    this.scaler = new Scaler({ ...common, gate: this.gate, startWorker: () => this.startWorker() });
  }

  /**
   * Registers the pool, takes back the tasks of dead pools, checks that the
   * task module loads (in a first worker), then starts serving the queue.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new ConfigError('this pool manager was already started; create a new one');
    const found = fs.statSync(this.tasksModule, { throwIfNoEntry: false });
    if (!found?.isFile()) {
      const what = found ? `task module is a directory, not a file: ${this.tasksModule}` : `task module not found: ${this.tasksModule}`;
      throw new ConfigError(`${what}; pass the path to your compiled task module (a .js file) with --tasks`);
    }
    this.state = 'running';
    await this.heartbeat();
    // Heartbeats go on while the first worker starts: a slow start must not make the pool look gone.
    this.every(HEARTBEAT_MS, () => this.heartbeat());
    await this.reclaim();
    await this.preflight();
    this.scaler.seed(this.workers.liveCount());

    this.unsubscribe = this.broker.subscribe((change) => this.onBrokerChange(change));
    this.ticker = new PoolTicker({
      tickMs: this.settings.tickMs,
      quietMs: QUIET_TICK_MS,
      quiet: () => this.scaler.quiet(),
      tick: this.upkeep(() => {
        this.dispatcher.pump();
        return Promise.all([this.scaler.evaluate(), this.dispatcher.recordStarts()]);
      }),
    });
    this.ticker.start();
    this.every(Math.max(500, Math.floor(this.settings.leaseMs / 3)), () => this.broker.renewLeases(this.id, this.settings.leaseMs));
    this.every(Math.max(1000, Math.floor(this.settings.leaseMs / 2)), () => this.reclaim());
    this.every(PRUNE_EVERY_MS, () => this.prune());
    void this.scaler.evaluate();
    this.dispatcher.pump();
    this.logger.info({ pool: this.id, queue: this.settings.queue, min: this.settings.min, max: this.settings.max }, 'pool started');
  }

  /**
   * Drains: stops fetching, lets running tasks finish within the grace period,
   * then returns the rest to the queue and ends every worker.
   */
  stop(graceMs: number = this.settings.drainGraceMs): Promise<void> {
    // A second call can only shorten the grace period (a second Ctrl-C stops at once).
    this.drainDeadline = Math.min(this.drainDeadline, this.clock.now() + graceMs);
    this.stopping ??= this.drain();
    return this.stopping;
  }

  /** The desired size, as the policy last decided it. */
  get desired(): number {
    return this.scaler.desired;
  }

  get lastDecision() {
    return this.scaler.lastDecision;
  }

  snapshot(): PoolSnapshot {
    return {
      id: this.id,
      hostname: os.hostname(),
      pid: process.pid,
      queue: this.settings.queue,
      startedAt: this.startedAt,
      heartbeatAt: this.clock.now(),
      ttlMs: POOL_TTL_MS,
      min: this.scaler.limits.min,
      max: this.scaler.limits.max,
      desired: this.scaler.desired,
      draining: this.state !== 'running',
      paused: this.scaler.paused,
      workers: this.workers.list().map((handle) => handle.snapshot()),
      stats: this.taskStats.snapshot(this.clock.now(), this.scaler.arrivalRate),
    };
  }

  private async drain(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'draining';
    this.logger.info({ busy: this.workers.busyCount() }, 'draining: no new tasks; waiting for running ones');
    this.dispatcher.stopClaiming();
    this.scaler.disable();
    this.unsubscribe?.();
    this.stopTimers();
    const retireIdle = () => this.workers.list().filter((h) => h.state === 'idle' || h.state === 'starting').forEach((h) => this.workers.retire(h));
    retireIdle();

    const renew = setInterval(() => void this.broker.renewLeases(this.id, this.settings.leaseMs).catch(() => {}), HEARTBEAT_MS);
    while (this.workers.busyCount() > 0 && this.clock.now() < this.drainDeadline) {
      await sleep(20);
      retireIdle();
    }
    clearInterval(renew);
    if (this.workers.busyCount() > 0) {
      this.logger.warn({ busy: this.workers.busyCount() }, 'grace period over: returning the running tasks to the queue');
      this.dispatcher.abandonRunning();
    }
    retireIdle();
    await this.workers.waitForAllExits(5000);
    if (!(await settlesWithin(this.dispatcher.settled(), SETTLE_WAIT_MS))) {
      this.logger.warn(
        { outcomes: this.dispatcher.unsettled },
        `outcomes still not recorded and acked after ${SETTLE_WAIT_MS / 1000} s (is the store or the broker unreachable?): ` +
          'stopping without them; their tasks are not lost, unacked they are handed out again',
      );
    }
    this.writeRetry.close();
    await settlesWithin(this.store.removePool(this.id), UNREGISTER_WAIT_MS);
    this.state = 'stopped';
    this.logger.info({}, 'pool stopped');
    this.emit('stopped');
  }

  private startWorker(): void {
    if (this.state !== 'running') return;
    const handle = this.workers.start();
    this.emit('worker-started', { pid: handle.pid, at: handle.startedAt });
  }

  /** Starts the first worker and waits for its hello, so a broken task module fails `start()` with its error. */
  private async preflight(): Promise<void> {
    const hello = new Promise<void>((resolve, reject) => (this.firstHello = { resolve, reject }));
    this.startWorker();
    try {
      await hello;
    } catch (error) {
      this.state = 'stopped';
      this.stopTimers();
      await this.workers.waitForAllExits(1000);
      await this.store.removePool(this.id).catch(() => {});
      throw error;
    }
  }

  private onWorkerMessage(handle: WorkerHandle, message: FromWorker): void {
    switch (message.t) {
      case 'hello': {
        this.catalog.learn(message.catalog);
        handle.rssBytes = message.rssBytes;
        const now = this.clock.now();
        handle.readyAt = now;
        handle.idleSince = now;
        if (handle.state === 'starting') handle.state = 'idle';
        this.firstHello?.resolve();
        this.firstHello = undefined;
        this.emit('worker-ready', { pid: handle.pid, startMs: now - handle.startedAt });
        if (this.state === 'running') this.dispatcher.pump();
        else this.workers.retire(handle);
        return;
      }
      case 'done':
        this.dispatcher.onDone(handle, message);
        return;
      case 'progress':
        this.emit('progress', { id: message.id, value: message.value });
        return;
      case 'leaving':
        if (handle.state === 'idle') this.workers.retire(handle);
        return;
      case 'withdrawn':
        this.dispatcher.onWithdrawn(handle, message.id);
        return;
    }
  }

  private onWorkerExit(handle: WorkerHandle, exit: WorkerExit): void {
    const now = this.clock.now();
    const crashed = handle.exitCause === undefined;
    if (crashed && this.state === 'running') this.gate.recordCrash(now);
    if (handle.readyAt === undefined) this.onStartFailure(handle, exit);
    else if (crashed) this.logger.warn({ pid: handle.pid, code: exit.code, signal: exit.signal }, 'a worker died unexpectedly');
    this.emit('worker-exited', {
      pid: handle.pid,
      code: exit.code,
      signal: exit.signal,
      cause: handle.exitCause ?? 'crashed',
      uptimeMs: now - handle.startedAt,
    });
    this.dispatcher.onWorkerExit(handle, exit);
    if (this.state === 'running') {
      this.scaler.evaluateSoon();
      this.dispatcher.pump();
    }
  }

  private onStartFailure(handle: WorkerHandle, exit: WorkerExit): void {
    if (handle.exitCause === 'retired' || handle.exitCause === 'drained') return;
    const tail = handle.channel.stderrTail().trim();
    const why =
      exit.code === EXIT_TASK_MODULE_INVALID
        ? 'could not load the task module'
        : handle.exitCause === 'start_timeout'
          ? 'did not say hello in time'
          : `exited (${exit.signal ?? `code ${exit.code}`}) before it was ready`;
    const error = new WorkerStartError(`a worker ${why}: ${tail || '(nothing on stderr)'}`);
    if (this.firstHello) {
      this.firstHello.reject(error);
      this.firstHello = undefined;
      return;
    }
    this.logger.error({ pid: handle.pid, crashStreak: this.gate.crashStreak }, error.message);
  }

  private onBrokerChange(change: BrokerChange): void {
    if (this.state !== 'running') return;
    this.ticker?.hurry();
    if (change === 'cancellations') {
      void this.dispatcher.checkCancellations().catch((error) => this.logger.warn({ err: error }, 'could not check for cancellations'));
      return;
    }
    this.dispatcher.pump();
    // Scaling up on a burst cannot wait for the tick; otherwise the tick observes often enough.
    if (this.workers.idle().length === 0 && this.workers.liveCount() < this.settings.max) this.scaler.evaluateSoon();
  }

  private async heartbeat(): Promise<void> {
    const now = this.clock.now();
    for (const handle of this.workers.list()) if (handle.readyAt !== undefined) this.gate.noteUptime(handle.startedAt, now);
    await this.applyControls();
    await this.store.reportPool(this.snapshot());
  }

  /** Paused queues and min/max overrides set at run time (API, dashboard) take effect within a heartbeat. */
  private async applyControls(): Promise<void> {
    const [paused, limits] = await Promise.all([this.store.pausedQueues(), this.store.poolLimits(this.id)]);
    const isPaused = paused.includes(this.settings.queue);
    if (isPaused !== this.scaler.paused) {
      this.logger.info({ queue: this.settings.queue }, isPaused ? 'queue paused: taking no new tasks' : 'queue resumed');
      this.scaler.paused = isPaused;
      this.dispatcher.setPaused(isPaused);
    }
    const wanted = limits ?? { min: this.settings.min, max: this.settings.max };
    if (wanted.min !== this.scaler.limits.min || wanted.max !== this.scaler.limits.max) {
      this.logger.info(wanted, limits ? 'new limits set at run time' : 'back to the limits of the settings');
      this.scaler.limits = wanted;
      this.scaler.evaluateSoon();
    }
  }

  private async reclaim(): Promise<void> {
    const reaped = await reapDeadLocalPools(this.broker, this.store, this.id);
    const expired = await this.broker.reclaim({ expiredBefore: this.clock.now() });
    if (reaped.tasks + expired > 0) {
      this.logger.warn({ pools: reaped.pools, tasks: reaped.tasks + expired }, 'took back the tasks of pools that died');
    }
  }

  private async prune(): Promise<void> {
    const retention = { now: this.clock.now(), ...this.retention };
    await this.store.prune(retention);
    await this.broker.prune(retention);
  }

  private stopTimers(): void {
    this.ticker?.stop();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private every(ms: number, work: () => unknown): void {
    const run = this.upkeep(work);
    this.timers.push(setInterval(() => void run(), ms));
  }

  /** Runs `work` each time it is called, logging its failures (see RepeatedFailureLog); never rejects. */
  private upkeep(work: () => unknown): () => Promise<void> {
    const failures = new RepeatedFailureLog(this.logger, {
      failed: 'periodic pool upkeep failed; it runs again on its next turn',
      recovered: 'periodic pool upkeep works again',
    });
    return () =>
      Promise.resolve()
        .then(work)
        .then(
          () => failures.succeeded(),
          (error: unknown) => failures.failed(error),
        );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
