import type { EventEmitter } from 'node:events';
import type { PoolSettings } from '../../core/pool-settings.js';
import { decide, EMPTY_MEMORY, type Observation, type PolicyMemory, type ScalingDecision } from '../../core/scaling-policy.js';
import type { Broker, QueueStats } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { DecisionRecord, Store } from '../../ports/store.js';
import { ArrivalMeter, type RecentMean } from './load-meters.js';
import type { PoolEvents } from './pool-events.js';
import type { RestartGate } from './restart-gate.js';
import type { WorkerSet } from './worker-set.js';

export interface ScalerDeps {
  broker: Broker;
  store: Store;
  workers: WorkerSet;
  gate: RestartGate;
  serviceTimes: RecentMean;
  settings: PoolSettings;
  poolId: string;
  clock: Clock;
  events: EventEmitter<PoolEvents>;
  logger: Logger;
  startWorker(): void;
}

/** The smallest gap between two evaluations that a burst of notifications may cause. */
const MIN_GAP_MS = 20;

/**
 * How old the queue's counts may be while every worker of a pool at its max
 * is busy: it cannot grow, and it wants at least its size whatever the queue
 * holds, so the policy still runs every tick, on counts up to this old.
 * Counting is not free: the embedded broker reads an index entry per waiting
 * task (3 ms for 25,000 here), and a saturated pool is the one with the
 * longest queue; RabbitMQ's counts take eight round trips (the queue, its
 * delay and dead-letter queues), each a wake-up of the pool and of RabbitMQ.
 */
const SATURATED_COUNT_MS = 5000;

/**
 * Observe, decide, act: feeds the policy what the pool sees, starts workers
 * up to the desired size (paced by the restart gate), retires idle ones down
 * to it, and records every change of the desired size with its reason.
 */
export class Scaler {
  private memory: PolicyMemory = EMPTY_MEMORY;
  private readonly arrivals: ArrivalMeter;
  private lastDesired: number | undefined;
  private lastRunAt = 0;
  private running = false;
  private again = false;
  private later: NodeJS.Timeout | undefined;
  private enabled = true;
  desired = 0;
  lastDecision: ScalingDecision | undefined;
  /** The pool's limits now: its settings, or an override set at run time (gaffer API, dashboard). */
  limits: { min: number; max: number };
  /** At the last look, nothing was ready, blocked, delayed or running in the queue, and the pool had the size it wanted. */
  private quietAtLastLook = false;
  /** While its queue is paused, its waiting tasks need no workers. */
  paused = false;
  arrivalRate = 0;
  /** The queue's counts at the last look, and when. */
  private counted: { stats: QueueStats | undefined; at: number } | undefined;

  constructor(private readonly deps: ScalerDeps) {
    this.arrivals = new ArrivalMeter(Math.min(60_000, Math.max(1000, deps.settings.scaleDownWindowMs)));
    this.limits = { min: deps.settings.min, max: deps.settings.max };
  }

  /**
   * The workers a pool starts with count as needed just now, so they get the
   * same stabilization window as any others instead of being retired at once.
   */
  seed(workers: number): void {
    this.memory = { recent: [{ at: this.deps.clock.now(), want: workers }] };
    this.lastDesired = workers;
  }

  /**
   * Nothing to do until news comes: the queue was empty everywhere at the
   * last look, no worker of this pool is busy, and no evaluation is due.
   */
  quiet(): boolean {
    return this.quietAtLastLook && this.later === undefined && this.deps.workers.busyCount() === 0;
  }

  /**
   * Evaluates now, or as soon as the minimum gap allows. A quiet pool's first
   * news does not wait out the gap: it is how a burst begins, and a tick that
   * had just found the queue empty would otherwise hold back the pool's first
   * workers by up to the gap (10 ms of the 20 in a burst measured here).
   */
  evaluateSoon(): void {
    if (!this.enabled) return;
    const wait = this.lastRunAt + MIN_GAP_MS - this.deps.clock.now();
    if (wait <= 0 || this.quiet()) {
      void this.evaluate();
      return;
    }
    this.later ??= setTimeout(() => {
      this.later = undefined;
      void this.evaluate();
    }, wait);
  }

  /** No more starts or retirements: the pool drains. */
  disable(): void {
    this.enabled = false;
    clearTimeout(this.later);
  }

  async evaluate(): Promise<void> {
    if (!this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.lastRunAt = this.deps.clock.now();
        await this.evaluateOnce();
      } while (this.again && this.enabled);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not observe the queue; scaling waits for the next tick');
    } finally {
      this.running = false;
    }
  }

  private async evaluateOnce(): Promise<void> {
    const { settings, workers } = this.deps;
    const saturated = this.desired === this.limits.max && workers.liveCount() === this.limits.max && workers.busyCount() === this.limits.max;
    const stats = saturated && this.counted && this.deps.clock.now() - this.counted.at < SATURATED_COUNT_MS ? this.counted.stats : await this.count();
    const now = this.deps.clock.now();
    const observation: Observation = {
      now,
      ready: this.paused ? 0 : (stats?.ready ?? 0),
      running: workers.busyCount(),
      workers: workers.liveCount(),
      arrivalRate: this.paused ? 0 : this.arrivalRate,
      serviceMs: this.deps.serviceTimes.mean(),
    };
    const decision = decide(observation, { ...settings, ...this.limits }, this.memory);
    this.memory = decision.memory;
    this.desired = decision.desired;
    this.lastDecision = decision;
    this.quietAtLastLook =
      stats !== undefined && stats.ready + stats.blocked + stats.delayed + stats.running === 0 && decision.desired === observation.workers;
    this.act(decision, observation);
    if (decision.desired !== this.lastDesired) {
      this.lastDesired = decision.desired;
      await this.record(decision, observation);
    }
  }

  private async count(): Promise<QueueStats | undefined> {
    const [stats] = await this.deps.broker.stats([this.deps.settings.queue]);
    const now = this.deps.clock.now();
    this.arrivalRate = this.arrivals.observe(stats?.enqueuedTotal ?? 0, now);
    this.counted = { stats, at: now };
    return stats;
  }

  private act(decision: ScalingDecision, observation: Observation): void {
    const { workers, gate } = this.deps;
    if (decision.desired > observation.workers) {
      const wait = gate.waitMs(observation.now);
      if (wait > 0) {
        this.later ??= setTimeout(() => {
          this.later = undefined;
          void this.evaluate();
        }, wait);
        return;
      }
      // After crashes, one at a time: a broken module should not take the whole pool down at once.
      const toStart = gate.crashStreak > 0 ? 1 : decision.desired - observation.workers;
      for (let i = 0; i < toStart; i++) this.deps.startWorker();
    } else if (decision.desired < observation.workers) {
      const excess = observation.workers - decision.desired;
      for (const handle of workers.idle().slice(0, excess)) workers.retire(handle);
    }
  }

  private async record(decision: ScalingDecision, observation: Observation): Promise<void> {
    const record: DecisionRecord = {
      poolId: this.deps.poolId,
      at: observation.now,
      from: observation.workers,
      to: decision.desired,
      want: decision.want,
      reason: decision.reason,
      detail: decision.detail,
      observation,
    };
    this.deps.events.emit('decision', record);
    this.deps.logger.info({ from: record.from, to: record.to, reason: record.reason }, `scale ${record.from} → ${record.to}: ${record.detail}`);
    await this.deps.store.recordDecision(record);
  }
}
