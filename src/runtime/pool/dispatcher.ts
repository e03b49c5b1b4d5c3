import type { EventEmitter } from 'node:events';
import type { PoolSettings } from '../../core/pool-settings.js';
import type { Broker, Delivery } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { Store, TaskUpdate } from '../../ports/store.js';
import type { WorkerExit } from '../../ports/worker-driver.js';
import { cancelTasks } from '../cancellation.js';
import type { FromWorker } from '../ipc/messages.js';
import type { ServiceTimeMeter } from './load-meters.js';
import type { FinalOutcome, OutcomeRecorder } from './outcome-recorder.js';
import type { PoolEvents } from './pool-events.js';
import type { TaskCatalog } from './task-catalog.js';
import type { Assignment, WorkerHandle } from './worker-handle.js';
import type { WorkerSet } from './worker-set.js';

export interface DispatcherDeps {
  broker: Broker;
  store: Store;
  workers: WorkerSet;
  catalog: TaskCatalog;
  recorder: OutcomeRecorder;
  settings: PoolSettings;
  poolId: string;
  clock: Clock;
  events: EventEmitter<PoolEvents>;
  serviceTimes: ServiceTimeMeter;
  logger: Logger;
}

type DoneMessage = Extract<FromWorker, { t: 'done' }>;

/**
 * Moves tasks from the broker to free workers and their outcomes back. It
 * claims only as many tasks as there are idle workers, so nothing is hoarded,
 * and hands a freed worker its next task before recording the last outcome,
 * so the worker does not wait on the bookkeeping.
 */
export class Dispatcher {
  private pumping = false;
  private pumpAgain = false;
  private claiming = true;
  private startBuffer: TaskUpdate[] = [];
  private startFlush: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Claims and dispatches tasks for every idle worker; coalesces calls that arrive while it runs. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pumpLoop();
  }

  /** Stops taking tasks from the broker (a drain); what runs goes on. */
  stopClaiming(): void {
    this.claiming = false;
  }

  /** Resolves once every outcome seen so far is recorded. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.flushStarts();
  }

  onDone(handle: WorkerHandle, message: DoneMessage): void {
    const assignment = handle.assignment;
    if (!assignment || assignment.delivery.envelope.id !== message.id) return;
    const now = this.deps.clock.now();
    handle.clearTimers();
    handle.assignment = undefined;
    handle.tasksDone++;
    handle.rssBytes = message.rssBytes;
    handle.idleSince = now;
    if (message.leaving) this.deps.workers.retire(handle);
    else handle.state = 'idle';

    const runMs = now - assignment.dispatchedAt;
    if (message.outcome.kind !== 'bad_input') this.deps.serviceTimes.record(runMs);
    const { envelope } = assignment.delivery;
    const wonRace =
      message.outcome.kind === 'succeeded' && envelope.race === true && envelope.group !== undefined && message.outcome.result !== null;
    const extra = { cpuMicros: message.cpuMicros, startedAt: message.startedAt };
    if (wonRace) {
      // The losers stop first, and none of them is handed out before the group is cancelled.
      this.stopLocalGroup(envelope.group!, envelope.id);
      this.track(this.finish(handle.pid, assignment, message.outcome, runMs, extra).then(() => this.pump()));
    } else {
      this.pump();
      this.track(this.finish(handle.pid, assignment, message.outcome, runMs, extra));
    }
  }

  /** Settles the task of a worker that exited: a crash, or an end the manager caused. */
  onWorkerExit(handle: WorkerHandle, exit: WorkerExit): void {
    const assignment = handle.assignment;
    if (!assignment) return;
    handle.clearTimers();
    handle.assignment = undefined;
    const runMs = this.deps.clock.now() - assignment.dispatchedAt;
    switch (handle.exitCause) {
      case 'timeout':
        this.track(this.finish(handle.pid, assignment, { kind: 'timeout', timeLimitMs: assignment.settings.timeLimitMs }, runMs));
        return;
      case 'cancelled':
        this.track(this.finish(handle.pid, assignment, { kind: 'cancelled' }, runMs));
        return;
      case undefined: {
        const crash: FinalOutcome = {
          kind: 'crashed',
          pid: handle.pid,
          exitCode: exit.code,
          signal: exit.signal,
          stderrTail: handle.channel.stderrTail(),
        };
        this.track(this.finish(handle.pid, assignment, crash, runMs));
        return;
      }
      default:
        // Drained (or otherwise ended by the manager): back to the queue, nothing counted.
        this.track(this.deps.recorder.release([assignment.delivery]));
    }
  }

  /** Asks the running handlers of these tasks to stop; kills their workers after the grace period. */
  stopRunning(ids: ReadonlySet<string>): void {
    for (const handle of this.deps.workers.list()) {
      if (handle.assignment && ids.has(handle.assignment.delivery.envelope.id)) this.stop(handle);
    }
  }

  /** Stops the tasks that someone cancelled while this pool ran them. */
  async checkCancellations(): Promise<void> {
    if (this.deps.workers.busyCount() === 0) return;
    const ids = await this.deps.broker.pendingCancellations(this.deps.poolId);
    if (ids.length > 0) this.stopRunning(new Set(ids));
  }

  /** Kills the workers still busy (a drain out of time); their tasks go back to the queue. */
  abandonRunning(): void {
    for (const handle of this.deps.workers.list()) if (handle.assignment) handle.kill('drained');
  }

  private async pumpLoop(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        this.pumpAgain = false;
        if (!this.claiming) return;
        const free = this.deps.workers.idle();
        if (free.length === 0) return;
        const deliveries = await this.deps.broker.claim({
          queue: this.deps.settings.queue,
          max: free.length,
          owner: this.deps.poolId,
          leaseMs: this.deps.settings.leaseMs,
        });
        deliveries.forEach((delivery, index) => this.dispatch(free[index]!, delivery));
        if (deliveries.length < free.length && !this.pumpAgain) return;
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not claim tasks from the broker; retrying on the next tick');
    } finally {
      this.pumping = false;
    }
  }

  private dispatch(handle: WorkerHandle, delivery: Delivery): void {
    const now = this.deps.clock.now();
    if (handle.state !== 'idle') {
      this.track(this.deps.recorder.release([delivery]));
      return;
    }
    if (delivery.cancelRequested) {
      this.track(this.deps.recorder.cancelled(delivery, now).then(() => undefined));
      this.pumpAgain = true;
      return;
    }
    const { envelope } = delivery;
    const settings = this.deps.catalog.settingsFor(envelope.type);
    const assignment: Assignment = { delivery, settings, dispatchedAt: now, timeLimitTimer: undefined, cancelTimer: undefined, cancelling: false };
    handle.assignment = assignment;
    handle.state = 'busy';
    assignment.timeLimitTimer = setTimeout(() => {
      if (handle.assignment === assignment) handle.kill('timeout');
    }, settings.timeLimitMs);
    assignment.timeLimitTimer.unref();
    handle.send({
      t: 'run',
      task: {
        id: envelope.id,
        type: envelope.type,
        queue: envelope.queue,
        payload: envelope.payload,
        attempt: delivery.attempts + delivery.deaths + 1,
        ...(envelope.key === undefined ? {} : { key: envelope.key }),
        ...(envelope.group === undefined ? {} : { group: envelope.group }),
      },
    });
    this.bufferStart({
      id: envelope.id,
      queue: envelope.queue,
      type: envelope.type,
      state: 'running',
      startedAt: now,
      poolId: this.deps.poolId,
      workerPid: handle.pid,
    });
    this.deps.events.emit('task-started', { id: envelope.id, type: envelope.type, pid: handle.pid, at: now });
  }

  private stop(handle: WorkerHandle): void {
    const assignment = handle.assignment;
    if (!assignment || assignment.cancelling) return;
    assignment.cancelling = true;
    handle.send({ t: 'cancel', id: assignment.delivery.envelope.id });
    assignment.cancelTimer = setTimeout(() => {
      if (handle.assignment === assignment) handle.kill('cancelled');
    }, this.deps.settings.cancelGraceMs);
    assignment.cancelTimer.unref();
  }

  private stopLocalGroup(group: string, winnerId: string): void {
    for (const handle of this.deps.workers.list()) {
      const envelope = handle.assignment?.delivery.envelope;
      if (envelope?.group === group && envelope.id !== winnerId) this.stop(handle);
    }
  }

  private async finish(
    pid: number,
    assignment: Assignment,
    outcome: FinalOutcome,
    runMs: number,
    extra: { cpuMicros?: number; startedAt?: number } = {},
  ): Promise<void> {
    await this.flushStarts();
    const now = this.deps.clock.now();
    const { delivery } = assignment;
    const settled = await this.deps.recorder.settle(delivery, outcome, assignment.settings, now, pid);
    const { envelope } = delivery;
    this.deps.events.emit('task-finished', {
      id: envelope.id,
      type: envelope.type,
      ...(envelope.group === undefined ? {} : { group: envelope.group }),
      pid,
      state: settled.state,
      ...(outcome.kind === 'succeeded' ? { result: outcome.result } : {}),
      ...(settled.deadReason ? { deadReason: settled.deadReason } : {}),
      runMs,
      ...extra,
    });
    if (outcome.kind === 'succeeded' && envelope.race && envelope.group !== undefined && outcome.result !== null) {
      const results = await cancelTasks(this.deps.broker, this.deps.store, { group: envelope.group, except: envelope.id }, now);
      const ids = results.filter((result) => result.outcome === 'cancelled').map((result) => result.id);
      if (ids.length > 0) this.deps.events.emit('tasks-cancelled', { ids, group: envelope.group });
    }
  }

  private bufferStart(update: TaskUpdate): void {
    this.startBuffer.push(update);
    this.startFlush ??= setImmediate(() => void this.flushStarts());
  }

  /** Records the starts of this turn in one write; always before any of their outcomes. */
  private async flushStarts(): Promise<void> {
    if (this.startFlush) clearImmediate(this.startFlush);
    this.startFlush = undefined;
    if (this.startBuffer.length === 0) return;
    const batch = this.startBuffer;
    this.startBuffer = [];
    try {
      await this.deps.store.updateTasks(batch);
    } catch (error) {
      this.deps.logger.warn({ err: error, tasks: batch.length }, 'could not record task starts in the store');
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      (error: unknown) => {
        this.deps.logger.error({ err: error }, 'could not record a task outcome; the task stays leased and runs again after its lease');
      },
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }
}
