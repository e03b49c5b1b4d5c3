import type { EventEmitter } from 'node:events';
import type { PoolSettings } from '../../core/pool-settings.js';
import type { Broker, Delivery } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { Store } from '../../ports/store.js';
import type { WorkerExit } from '../../ports/worker-driver.js';
import { cancelTasks } from '../cancellation.js';
import type { FromWorker, RunTask } from '../ipc/messages.js';
import { RecentMean } from './load-meters.js';
import type { FinalOutcome, OutcomeRecorder } from './outcome-recorder.js';
import { RepeatedFailureLog } from './repeated-failure-log.js';
import type { PoolEvents, TaskFinishedEvent } from './pool-events.js';
import { lastOfLongestLookahead, lookaheadDepth, lookaheadRooms, shareOut, type LookaheadRoom } from './lookahead.js';
import type { TaskCatalog } from './task-catalog.js';
import { StartRecords } from './start-records.js';
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
  serviceTimes: RecentMean;
  logger: Logger;
}

type DoneMessage = Extract<FromWorker, { t: 'done' }>;

/**
 * Moves tasks from the broker to workers and their outcomes back.
 *
 * It claims a task for each idle worker. While workers are busy with short
 * tasks and work is waiting, it also sends each busy worker the tasks it runs
 * next (see lookaheadDepth), which the worker starts one after the other the
 * moment it is done. It refills a worker's lookahead once half of it is used,
 * so that claims and messages come in batches. An idle worker that finds the
 * queue empty takes such a task back, so no worker sits on work another could
 * run, and with keys nothing can reorder (only the oldest unfinished task of a
 * key can be claimed). A freed worker's outcome and its next claim go to
 * the broker together.
 */
export class Dispatcher {
  private pumping = false;
  private pumpAgain = false;
  private claiming = true;
  private paused = false;
  private readonly starts: StartRecords;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly claimFailures: RepeatedFailureLog;
  /** Of the tasks handed to workers: bounds the lookahead of tasks with big payloads (see lookaheadDepth). */
  private readonly payloadSizes = new RecentMean();

  constructor(private readonly deps: DispatcherDeps) {
    this.starts = new StartRecords(deps.store);
    this.claimFailures = new RepeatedFailureLog(deps.logger, {
      failed: 'could not claim tasks from the broker; retrying at every tick',
      recovered: 'claiming tasks from the broker again',
    });
  }

  /** Claims and dispatches tasks for the workers that can take one; coalesces calls that arrive while it runs. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pumpLoop();
  }

  /** Stops taking tasks from the broker (a drain), and asks back the tasks waiting in lookahead. */
  stopClaiming(): void {
    this.claiming = false;
    for (const handle of this.deps.workers.list()) this.withdrawAll(handle);
  }

  /** A paused queue: no new tasks (running ones go on); resuming takes tasks again at once. */
  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) for (const handle of this.deps.workers.list()) this.withdrawAll(handle);
    else this.pump();
  }

  /** How many outcomes are still being recorded (and acked). */
  get unsettled(): number {
    return this.inFlight.size;
  }

  /** Resolves once every outcome seen so far is recorded. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Records as running the tasks that still run, once they have run half a tick (called every tick; see StartRecords). */
  recordStarts(): Promise<void> {
    return this.starts.write(this.deps.clock.now(), this.deps.settings.tickMs / 2);
  }

  onDone(handle: WorkerHandle, message: DoneMessage): void {
    const waited = handle.takeWaiting(message.id);
    if (waited) {
      // Cancelled while it waited in the lookahead: it never started.
      this.track(this.finish(handle.pid, waited, message.outcome, 0));
      return;
    }
    const assignment = handle.assignment;
    if (!assignment || assignment.delivery.envelope.id !== message.id) return;
    const now = this.deps.clock.now();
    handle.clearTimers();
    handle.assignment = undefined;
    handle.tasksDone++;
    handle.rssBytes = message.rssBytes;
    handle.idleSince = now;
    if (message.leaving) this.deps.workers.retire(handle);
    else if (handle.waiting.length > 0) this.start(handle, handle.waiting[0]!, now);
    else handle.state = 'idle';

    // The worker's own clock: with lookahead, the manager learns of a start only when the task before is reported done.
    const runMs = Math.max(0, message.finishedAt - message.startedAt);
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
      // Recorded first: on the embedded broker the claim below then reads and leases inside the same open transaction,
      // and an urgent claim's commit takes the outcome with it, one commit where there were two. The next task still
      // reaches its worker after one commit, now with the outcome's few statements ahead of it.
      this.track(this.finish(handle.pid, assignment, message.outcome, runMs, extra));
      this.pump();
    }
  }

  /** A task came back unstarted from the lookahead: another worker runs it, or it returns to the queue. */
  onWithdrawn(handle: WorkerHandle, id: string): void {
    let assignment = handle.takeWaiting(id);
    if (!assignment && handle.assignment?.delivery.envelope.id === id) {
      // It was taken for started when the task before it ended; it had not. The worker goes on with the next one, if any.
      assignment = handle.assignment;
      handle.clearTimers();
      handle.assignment = undefined;
      if (handle.waiting.length > 0) this.start(handle, handle.waiting[0]!, this.deps.clock.now());
      else if (handle.state === 'busy') handle.state = 'idle';
    }
    if (!assignment) return;
    this.starts.forget(id);
    const idle = this.claiming ? this.deps.workers.idle().find((other) => other !== handle) : undefined;
    if (idle) this.dispatch(idle, assignment.delivery);
    else this.track(this.deps.recorder.release([assignment.delivery]));
    this.pump();
  }

  /** Settles the tasks of a worker that exited: a crash, or an end the manager caused. */
  onWorkerExit(handle: WorkerHandle, exit: WorkerExit): void {
    if (handle.waiting.length > 0) {
      // Never started: back to the queue, nothing counted.
      const waiting = handle.waiting.splice(0);
      for (const assignment of waiting) this.starts.forget(assignment.delivery.envelope.id);
      this.track(this.deps.recorder.release(waiting.map((assignment) => assignment.delivery)));
    }
    const assignment = handle.assignment;
    if (!assignment) return;
    handle.clearTimers();
    handle.assignment = undefined;
    const runMs = this.deps.clock.now() - assignment.startedAt;
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
        this.starts.forget(assignment.delivery.envelope.id);
        this.track(this.deps.recorder.release([assignment.delivery]));
    }
  }

  /** Stops these tasks: running handlers see their signal abort (and are killed after the grace period); waiting ones are dropped. */
  stopRunning(ids: ReadonlySet<string>): void {
    for (const handle of this.deps.workers.list()) {
      for (const assignment of [handle.assignment, ...handle.waiting]) {
        if (assignment && ids.has(assignment.delivery.envelope.id)) this.stop(handle, assignment);
      }
    }
  }

  /** Stops the tasks that someone cancelled while this pool held them. */
  async checkCancellations(): Promise<void> {
    if (this.deps.workers.busyCount() === 0) return;
    const ids = await this.deps.broker.pendingCancellations(this.deps.poolId);
    if (ids.length > 0) this.stopRunning(new Set(ids));
  }

  /** Kills the workers still busy (a drain out of time); their tasks go back to the queue. */
  abandonRunning(): void {
    for (const handle of this.deps.workers.list()) if (handle.assignment || handle.waiting.length > 0) handle.kill('drained');
  }

  private async pumpLoop(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        this.pumpAgain = false;
        if (!this.claiming || this.paused) return;
        const free = this.deps.workers.idle();
        const ahead = free.length === 0 ? lookaheadRooms(this.deps.workers.list(), this.depth(), this.deps.settings.maxTasksPerWorker) : [];
        const wanted = free.length + ahead.reduce((sum, { room }) => sum + room, 0);
        if (wanted === 0) return;
        const deliveries = await this.claim(wanted, free.length > 0);
        this.claimFailures.succeeded();
        deliveries.slice(0, free.length).forEach((delivery, index) => this.dispatch(free[index]!, delivery));
        this.sendAhead(ahead, deliveries.slice(free.length));
        if (deliveries.length < free.length) this.takeBackFor(free.length - deliveries.length);
        if (deliveries.length < wanted && !this.pumpAgain) return;
      }
    } catch (error) {
      this.claimFailures.failed(error);
    } finally {
      this.pumping = false;
    }
  }

  private claim(max: number, urgent: boolean): Promise<Delivery[]> {
    return this.deps.broker.claim({
      queue: this.deps.settings.queue,
      max,
      urgent,
      owner: this.deps.poolId,
      leaseMs: this.deps.settings.leaseMs,
      // Credit for the next refill of every busy worker's lookahead, so that it is at hand when asked for.
      readAhead: Math.ceil(this.depth() / 2) * this.deps.workers.busyCount(),
    });
  }

  private depth(): number {
    return lookaheadDepth(this.deps.serviceTimes.mean(), this.deps.settings.lookaheadMs, this.payloadSizes.mean());
  }

  /** Idle workers found the queue empty: ask back, for each, a task from the longest lookahead. */
  private takeBackFor(idleWorkers: number): void {
    for (let taken = 0; taken < idleWorkers; taken++) {
      const found = lastOfLongestLookahead(this.deps.workers.list());
      if (!found) return;
      this.withdraw(found.handle, found.last);
    }
  }

  private withdrawAll(handle: WorkerHandle): void {
    for (const assignment of handle.waiting) this.withdraw(handle, assignment);
  }

  private withdraw(handle: WorkerHandle, assignment: Assignment): void {
    if (assignment.withdrawing) return;
    assignment.withdrawing = true;
    handle.send({ t: 'withdraw', id: assignment.delivery.envelope.id });
  }

  private dispatch(handle: WorkerHandle, delivery: Delivery): void {
    // The worker was chosen before the claim; it may have taken another task, or exited (its state stays as it was), meanwhile.
    if (handle.state !== 'idle' || handle.exited) {
      this.track(this.deps.recorder.release([delivery]));
      return;
    }
    const [assignment] = this.assign(handle, [delivery]);
    if (!assignment) return;
    this.start(handle, assignment, this.deps.clock.now());
  }

  /** Hands the deliveries out over the lookahead rooms (see shareOut), and sends each worker its share in one message. */
  private sendAhead(rooms: readonly LookaheadRoom[], deliveries: readonly Delivery[]): void {
    const { shares, extra } = shareOut(rooms, deliveries);
    // Never more than was asked for; should a broker hand out more, the extra goes back.
    if (extra.length > 0) this.track(this.deps.recorder.release(extra));
    rooms.forEach(({ handle }, index) => {
      const share = shares[index]!;
      if (share.length === 0) return;
      // It may have run out of work while the claim was on its way (then the first starts now), or exited: a task
      // handed to a worker that is gone would stay leased by this pool, renewed, and never run.
      if (handle.exited || (handle.state !== 'busy' && handle.state !== 'idle')) {
        this.track(this.deps.recorder.release(share));
        return;
      }
      const assignments = this.assign(handle, share);
      handle.waiting.push(...assignments);
      if (handle.state === 'idle' && assignments.length > 0) this.start(handle, assignments[0]!, this.deps.clock.now());
    });
  }

  /** Sends the tasks to the worker (it runs them in order); the ones cancelled meanwhile are ended instead. */
  private assign(handle: WorkerHandle, deliveries: readonly Delivery[]): Assignment[] {
    const now = this.deps.clock.now();
    const assignments: Assignment[] = [];
    for (const delivery of deliveries) {
      if (delivery.cancelRequested) {
        this.track(this.deps.recorder.cancelled(delivery, now));
        this.pumpAgain = true;
        continue;
      }
      this.payloadSizes.record(delivery.envelope.payload.length);
      assignments.push({
        delivery,
        settings: this.deps.catalog.settingsFor(delivery.envelope.type),
        startedAt: now,
        timeLimitTimer: undefined,
        cancelTimer: undefined,
        cancelling: false,
        withdrawing: false,
      });
    }
    if (assignments.length > 0) handle.send({ t: 'run', tasks: assignments.map(({ delivery }) => runTask(delivery)) });
    return assignments;
  }

  /** The task is now the worker's running one: its clock and time limit start. */
  private start(handle: WorkerHandle, assignment: Assignment, now: number): void {
    if (handle.waiting[0] === assignment) handle.waiting.shift();
    handle.assignment = assignment;
    handle.state = 'busy';
    assignment.startedAt = now;
    assignment.timeLimitTimer = setTimeout(() => {
      if (handle.assignment === assignment) handle.kill('timeout');
    }, assignment.settings.timeLimitMs);
    assignment.timeLimitTimer.unref();
    if (assignment.cancelling) this.armCancelKill(handle, assignment);
    const { envelope } = assignment.delivery;
    this.starts.started({
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

  private stop(handle: WorkerHandle, assignment: Assignment): void {
    if (assignment.cancelling) return;
    assignment.cancelling = true;
    handle.send({ t: 'cancel', id: assignment.delivery.envelope.id });
    if (handle.assignment === assignment) this.armCancelKill(handle, assignment);
  }

  /** A running handler that does not stop within the grace period loses its worker. */
  private armCancelKill(handle: WorkerHandle, assignment: Assignment): void {
    assignment.cancelTimer = setTimeout(() => {
      if (handle.assignment === assignment) handle.kill('cancelled');
    }, this.deps.settings.cancelGraceMs);
    assignment.cancelTimer.unref();
  }

  private stopLocalGroup(group: string, winnerId: string): void {
    for (const handle of this.deps.workers.list()) {
      for (const assignment of [handle.assignment, ...handle.waiting]) {
        const envelope = assignment?.delivery.envelope;
        if (assignment && envelope?.group === group && envelope.id !== winnerId) this.stop(handle, assignment);
      }
    }
  }

  private async finish(
    pid: number,
    assignment: Assignment,
    outcome: FinalOutcome,
    runMs: number,
    extra: { cpuMicros?: number; startedAt?: number } = {},
  ): Promise<void> {
    const { delivery } = assignment;
    this.starts.forget(delivery.envelope.id);
    const now = this.deps.clock.now();
    // Only a task that ran past a tick waits; a failed start write changes nothing here: the outcome is written either way.
    const startWrite = this.starts.writing(delivery.envelope.id);
    if (startWrite) await startWrite.catch(() => {});
    const settled = await this.deps.recorder.settle(delivery, outcome, assignment.settings, now, { workerPid: pid, startedAt: assignment.startedAt });
    const { envelope } = delivery;
    // Every task passes here: one event object, its optional fields set in place (spreads cost an object each).
    const event: TaskFinishedEvent = { id: envelope.id, type: envelope.type, pid, state: settled.state, ended: outcome.kind, runMs };
    if (envelope.group !== undefined) event.group = envelope.group;
    if (outcome.kind === 'succeeded') event.result = outcome.result;
    if (settled.deadReason) event.deadReason = settled.deadReason;
    if (delivery.attempts + delivery.deaths === 0) event.waitMs = Math.max(0, assignment.startedAt - (envelope.runAt ?? envelope.enqueuedAt));
    if (extra.cpuMicros !== undefined) event.cpuMicros = extra.cpuMicros;
    if (extra.startedAt !== undefined) event.startedAt = extra.startedAt;
    this.deps.events.emit('task-finished', event);
    if (outcome.kind === 'succeeded' && envelope.race && envelope.group !== undefined && outcome.result !== null) {
      const results = await cancelTasks(this.deps.broker, this.deps.store, { group: envelope.group, except: envelope.id }, now);
      const ids = results.filter((result) => result.outcome === 'cancelled').map((result) => result.id);
      if (ids.length > 0) this.deps.events.emit('tasks-cancelled', { ids, group: envelope.group });
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => {
        this.inFlight.delete(tracked);
      },
      (error: unknown) => {
        this.inFlight.delete(tracked);
        this.deps.logger.error({ err: error }, 'could not record a task outcome; the task stays leased and runs again after its lease');
      },
    );
    this.inFlight.add(tracked);
  }
}

/** What a worker is told of a task. */
function runTask(delivery: Delivery): RunTask {
  const { envelope } = delivery;
  const task: RunTask = { id: envelope.id, type: envelope.type, queue: envelope.queue, payload: envelope.payload, attempt: delivery.attempts + delivery.deaths + 1 };
  if (envelope.key !== undefined) task.key = envelope.key;
  if (envelope.group !== undefined) task.group = envelope.group;
  return task;
}
