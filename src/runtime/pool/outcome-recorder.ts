import { retryDelayMs } from '../../core/backoff.js';
import type { ResolvedTaskSettings } from '../../core/pool-settings.js';
import type { DeadReason, TaskError, TaskState } from '../../core/task-record.js';
import type { Broker, Delivery } from '../../ports/broker.js';
import type { Settlement } from '../../ports/settlement.js';
import type { Store, TaskUpdate } from '../../ports/store.js';
import type { WorkerOutcome } from '../ipc/messages.js';
import type { WriteRetry } from './write-retry.js';

/** How a delivery ended, as the manager saw it: the worker's answer, or what happened to the worker. */
export type FinalOutcome =
  | WorkerOutcome
  | { kind: 'timeout'; timeLimitMs: number }
  | { kind: 'crashed'; pid: number; exitCode: number | null; signal: string | null; stderrTail: string };

export interface RunInfo {
  workerPid: number;
  startedAt: number;
}

export interface Settled {
  state: TaskState;
  retryInMs?: number;
  deadReason?: DeadReason;
}

/**
 * Decides a delivery's fate from its outcome and the task type's settings, and
 * records it: the store first, then the broker, or both in one step where the
 * backend offers a Settlement. A write that fails is tried again until it
 * lands (see WriteRetry); meanwhile the task is not acked and stays leased.
 * Should the pool stop first, it runs again after its lease: at least once.
 */
export class OutcomeRecorder {
  constructor(
    private readonly broker: Broker,
    private readonly store: Store,
    private readonly poolId: string,
    private readonly retry: WriteRetry,
    private readonly settlement?: Settlement,
    private readonly random: () => number = Math.random,
  ) {}

  settle(delivery: Delivery, outcome: FinalOutcome, settings: ResolvedTaskSettings, now: number, run: RunInfo): Promise<Settled> {
    return this.retry.untilWritten(() => this.settleOnce(delivery, outcome, settings, now, run));
  }

  /** Ends a delivery as cancelled: stopped while running, or cancelled before it could start. */
  cancelled(delivery: Delivery, now: number, workerPid?: number): Promise<Settled> {
    return this.retry.untilWritten(() => this.cancelledOnce(delivery, now, workerPid));
  }

  /** Puts deliveries back untouched (a drain ran out of time, or they never started). */
  release(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return Promise.resolve();
    return this.retry.untilWritten(async () => {
      await this.store.updateTasks(deliveries.map((delivery) => ({ ...this.base(delivery), state: 'queued' as const })));
      await this.broker.release(deliveries);
    });
  }

  private async settleOnce(delivery: Delivery, outcome: FinalOutcome, settings: ResolvedTaskSettings, now: number, run: RunInfo): Promise<Settled> {
    if (outcome.kind === 'succeeded') {
      // Every task passes here: one record object, built in place.
      const record = this.base(delivery, run.workerPid, 'succeeded');
      record.startedAt = run.startedAt;
      record.result = outcome.result;
      record.finishedAt = now;
      await this.complete(delivery, 'succeeded', record);
      return { state: 'succeeded' };
    }
    const base = { ...this.base(delivery, run.workerPid), startedAt: run.startedAt };
    switch (outcome.kind) {
      case 'cancelled':
        return this.cancelledOnce(delivery, now, run.workerPid);
      case 'bad_input':
        return this.dead(delivery, base, { kind: 'bad_input', code: outcome.code, message: outcome.message }, now);
      case 'failed':
        return this.failedAttempt(delivery, base, outcome.error, settings, now, (attempts) => ({
          kind: 'failed',
          message: outcome.error.message,
          ...(outcome.error.stack === undefined ? {} : { stack: outcome.error.stack }),
          attempts,
        }));
      case 'timeout': {
        const message = `the task ran over its time limit of ${outcome.timeLimitMs} ms and its worker was killed`;
        const error: TaskError = { name: 'TimeoutError', code: 'timeout', message };
        return this.failedAttempt(delivery, base, error, settings, now, (attempts) => ({
          kind: 'timeout',
          message,
          timeLimitMs: outcome.timeLimitMs,
          attempts,
        }));
      }
      case 'crashed':
        return this.crashed(delivery, base, outcome, settings, now);
    }
  }

  private async cancelledOnce(delivery: Delivery, now: number, workerPid?: number): Promise<Settled> {
    await this.complete(delivery, 'cancelled', { ...this.base(delivery, workerPid), state: 'cancelled', finishedAt: now });
    return { state: 'cancelled' };
  }

  private async complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled', record: TaskUpdate): Promise<void> {
    if (this.settlement) return this.settlement.complete(delivery, outcome, record);
    await this.store.updateTasks([record]);
    await this.broker.complete(delivery, outcome);
  }

  private async failedAttempt(
    delivery: Delivery,
    base: TaskUpdate,
    error: TaskError,
    settings: ResolvedTaskSettings,
    now: number,
    reason: (attempts: number) => DeadReason,
  ): Promise<Settled> {
    const attempts = delivery.attempts + 1;
    if (attempts >= settings.maxAttempts) return this.dead(delivery, { ...base, attempts, error }, reason(attempts), now);
    const retryInMs = retryDelayMs(attempts, settings.backoff, this.random());
    await this.store.updateTasks([{ ...base, state: 'retrying', attempts, error }]);
    await this.broker.retry(delivery, { delayMs: retryInMs, counts: 'attempt' });
    return { state: 'retrying', retryInMs };
  }

  private async crashed(
    delivery: Delivery,
    base: TaskUpdate,
    outcome: Extract<FinalOutcome, { kind: 'crashed' }>,
    settings: ResolvedTaskSettings,
    now: number,
  ): Promise<Settled> {
    const deaths = delivery.deaths + 1;
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
    const message = `worker ${outcome.pid} ${how} while running the task`;
    const error: TaskError = { name: 'WorkerDied', code: 'worker_died', message };
    if (deaths >= settings.maxCrashes) {
      const reason: DeadReason = {
        kind: 'crashed',
        message,
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        stderrTail: outcome.stderrTail,
        deaths,
      };
      return this.dead(delivery, { ...base, deaths, error }, reason, now);
    }
    await this.store.updateTasks([{ ...base, state: 'queued', deaths, error }]);
    await this.broker.retry(delivery, { delayMs: 0, counts: 'death' });
    return { state: 'queued' };
  }

  private async dead(delivery: Delivery, update: TaskUpdate, reason: DeadReason, now: number): Promise<Settled> {
    const record: TaskUpdate = { ...update, state: 'dead', deadReason: reason, finishedAt: now };
    if (this.settlement) {
      await this.settlement.deadLetter(delivery, reason, record);
    } else {
      await this.store.updateTasks([record]);
      await this.broker.deadLetter(delivery, reason);
    }
    return { state: 'dead', deadReason: reason };
  }

  private base(delivery: Delivery, workerPid?: number, state: TaskState = 'running'): TaskUpdate {
    const { envelope } = delivery;
    const update: TaskUpdate = { id: envelope.id, queue: envelope.queue, type: envelope.type, state, poolId: this.poolId };
    if (envelope.key !== undefined) update.key = envelope.key;
    if (envelope.group !== undefined) update.group = envelope.group;
    if (workerPid !== undefined) update.workerPid = workerPid;
    return update;
  }
}
