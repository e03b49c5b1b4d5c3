import type { TaskEnvelope } from '../core/envelope.js';
import type { DeadReason } from '../core/task-record.js';
import type { Retention } from './store.js';

/**
 * Where queued tasks live until they are acked. Every adapter passes the
 * broker conformance suite (test/conformance/broker-suite.ts), which spells
 * out these promises case by case.
 */
export interface Broker {
  /**
   * Idempotent by task id: a known id is not enqueued again (`created:
   * false`), unless its first enqueue may never have reached the queue (`resent`).
   */
  enqueue(tasks: readonly TaskEnvelope[]): Promise<EnqueueResult[]>;
  /**
   * Hands out up to `max` tasks that may start now, leased to `owner`: FIFO per
   * queue, due delayed tasks included, and only the oldest unfinished task of
   * each key.
   */
  claim(request: ClaimRequest): Promise<Delivery[]>;
  /** Acks a delivery whose outcome is recorded: it succeeded, or it was cancelled. */
  complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled'): Promise<void>;
  /** Returns a delivery to its queue after `delayMs`, counting a failed attempt or a worker death. */
  retry(delivery: Delivery, options: RetryOptions): Promise<void>;
  /** Moves a delivery to its queue's dead-letter queue. */
  deadLetter(delivery: Delivery, reason: DeadReason): Promise<void>;
  /** Returns deliveries to their queue untouched: they were never started, or a drain ran out of time. */
  release(deliveries: readonly Delivery[]): Promise<void>;
  /** Keeps `owner`'s leases alive; a pool that stops renewing loses its tasks to the others. */
  renewLeases(owner: string, leaseMs: number): Promise<void>;
  /** Returns to their queues the tasks of a dead owner, or those whose lease expired. */
  reclaim(selector: { owner: string } | { expiredBefore: number }): Promise<number>;
  /**
   * Cancels queued tasks at once and asks the pools running the others to stop
   * them. A group selector takes every unfinished member but `except`.
   */
  cancel(selector: CancelSelector): Promise<CancelResult[]>;
  /** Running tasks of `owner` that were asked to stop. */
  pendingCancellations(owner: string): Promise<string[]>;
  stats(queues?: readonly string[]): Promise<QueueStats[]>;
  listDead(filter: DeadLetterFilter): Promise<DeadLetter[]>;
  getDead(id: string): Promise<DeadLetter | undefined>;
  /** Re-enqueues dead letters at the back of their queue, with fresh counters; returns them as re-enqueued. */
  retryDead(selector: DeadLetterSelector): Promise<TaskEnvelope[]>;
  purgeDead(selector: DeadLetterSelector): Promise<string[]>;
  /** Forgets finished tasks older than the retention; until then their ids stay taken. */
  prune(retention: Retention): Promise<number>;
  /** Calls back when tasks may have arrived, or been cancelled, by this process or another. */
  subscribe(listener: (change: BrokerChange) => void): () => void;
  close(): Promise<void>;
}

/** What may have changed: tasks to claim, or running tasks to stop. */
export type BrokerChange = 'tasks' | 'cancellations';

export interface EnqueueResult {
  id: string;
  created: boolean;
  /**
   * The id was taken before, by an enqueue whose task never reached its
   * queue for sure (a publish never confirmed), and this call put it there:
   * not created here, but its record is the caller's to write.
   */
  resent?: true;
}

export interface ClaimRequest {
  queue: string;
  max: number;
  owner: string;
  leaseMs: number;
  /**
   * Tasks the owner expects to ask for soon (its busy workers, when tasks are
   * short). A push-based broker may fetch them ahead, so that a worker that
   * frees up does not wait a round trip; a pull-based one ignores it.
   */
  readAhead?: number;
  /**
   * A worker sits idle until this claim resolves (not a top-up of tasks sent
   * ahead): a broker that batches its writes should not make it wait for the
   * batch.
   */
  urgent?: boolean;
}

export interface Delivery {
  /** The broker's own handle for this delivery. */
  readonly tag: string;
  readonly envelope: TaskEnvelope;
  /** Failed attempts before this delivery. */
  readonly attempts: number;
  /** Worker deaths before this delivery. */
  readonly deaths: number;
  /** Someone cancelled it while it ran elsewhere: end it as cancelled without running it. */
  readonly cancelRequested: boolean;
}

export interface RetryOptions {
  delayMs: number;
  counts: 'attempt' | 'death';
}

export type CancelSelector = { ids: readonly string[] } | { group: string; except?: string };

export interface CancelResult {
  id: string;
  queue?: string;
  type?: string;
  /** cancelled: it will never run; stopping: it runs and its pool was asked to stop it; finished/unknown: nothing to do. */
  outcome: 'cancelled' | 'stopping' | 'finished' | 'unknown';
}

export interface QueueStats {
  queue: string;
  /** Could start now. */
  ready: number;
  /** Waiting for an earlier task of the same key. */
  blocked: number;
  /** Waiting for their time: delayed enqueues and retries in backoff. */
  delayed: number;
  running: number;
  dead: number;
  enqueuedTotal: number;
}

export interface DeadLetter {
  envelope: TaskEnvelope;
  reason: DeadReason;
  attempts: number;
  deaths: number;
  deadAt: number;
}

export interface DeadLetterFilter {
  queue?: string;
  limit?: number;
  offset?: number;
}

export type DeadLetterSelector = { ids: readonly string[] } | { queue: string } | { all: true };
