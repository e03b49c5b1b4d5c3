import type { TaskEnvelope } from '../../../core/envelope.js';
import type { DeadReason } from '../../../core/task-record.js';
import type {
  Broker,
  BrokerChange,
  CancelResult,
  CancelSelector,
  ClaimRequest,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterSelector,
  Delivery,
  EnqueueResult,
  QueueStats,
  RetryOptions,
} from '../../../ports/broker.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { Retention } from '../../../ports/store.js';
import type { SqliteDatabase } from '../sqlite-database.js';
import { cancelOperation, pendingCancellationsOperation } from './operations/cancel.js';
import { claimOperation } from './operations/claim.js';
import { completeOperation } from './operations/complete.js';
import { deadLetterOperation } from './operations/dead-letter.js';
import { getDeadOperation, listDeadOperation, purgeDeadOperation, retryDeadOperation } from './operations/dead-letters.js';
import { enqueueOperation } from './operations/enqueue.js';
import { reclaimOperation, renewLeasesOperation } from './operations/leases.js';
import { promoteOperation } from './operations/promote.js';
import { pruneFinishedOperation } from './operations/prune.js';
import { releaseOperation } from './operations/release.js';
import { retryOperation } from './operations/retry.js';
import { statsOperation } from './operations/stats.js';

/**
 * The embedded broker: tasks are rows of one SQLite file, leased to the pool
 * that claims them. Each operation is one prepared statement or transaction,
 * in its own file under ./operations.
 */
export class SqliteBroker implements Broker {
  private readonly ops;
  private closed = false;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    database.retain();
    const db = database.db;
    this.ops = {
      enqueue: enqueueOperation(db),
      claim: claimOperation(db),
      promote: promoteOperation(db),
      complete: completeOperation(db),
      retry: retryOperation(db),
      deadLetter: deadLetterOperation(db),
      release: releaseOperation(db),
      renewLeases: renewLeasesOperation(db),
      reclaim: reclaimOperation(db),
      cancel: cancelOperation(db),
      pendingCancellations: pendingCancellationsOperation(db),
      stats: statsOperation(db),
      listDead: listDeadOperation(db),
      getDead: getDeadOperation(db),
      retryDead: retryDeadOperation(db),
      purgeDead: purgeDeadOperation(db),
      prune: pruneFinishedOperation(db),
    };
  }

  async enqueue(tasks: readonly TaskEnvelope[]): Promise<EnqueueResult[]> {
    const results = await this.database.write(() => this.ops.enqueue(tasks));
    this.announce(results.some((result) => result.created));
    return results;
  }

  /**
   * A claim resolves only once committed: a claim undone by a commit that
   * failed (a full disk) would leave its task queued while a worker runs it,
   * to be claimed and run again. An urgent claim commits at once; a top-up of
   * the tasks sent ahead to busy workers waits for the group commit.
   */
  async claim(request: ClaimRequest): Promise<Delivery[]> {
    const now = this.clock.now();
    const write = <T>(work: () => T): Promise<T> => (request.urgent ? this.database.writeNow(work) : this.database.write(work));
    // Due delayed tasks join the queue in the transaction of the claim that may take them. Inside a batch already
    // open (a pool's outcome, written just before), the reads take no read transaction (and its locks) of their own.
    if (this.database.batchOpen || this.ops.promote.anyDue(request.queue, now)) {
      return write(() => {
        this.ops.promote.promote(request.queue, now);
        return this.ops.claim.lease(this.ops.claim.find(request), request, now);
      });
    }
    const found = this.ops.claim.find(request);
    if (found.length === 0) return [];
    return write(() => this.ops.claim.lease(found, request, now));
  }

  async complete(delivery: Delivery, outcome: 'succeeded' | 'cancelled'): Promise<void> {
    this.announce((await this.database.write(() => this.ops.complete(delivery, outcome, this.clock.now()))) && delivery.envelope.key !== undefined);
  }

  async retry(delivery: Delivery, options: RetryOptions): Promise<void> {
    this.announce(await this.database.write(() => this.ops.retry(delivery, options, this.clock.now())));
  }

  async deadLetter(delivery: Delivery, reason: DeadReason): Promise<void> {
    this.announce((await this.database.write(() => this.ops.deadLetter(delivery, reason, this.clock.now()))) && delivery.envelope.key !== undefined);
  }

  async release(deliveries: readonly Delivery[]): Promise<void> {
    this.announce((await this.database.write(() => this.ops.release(deliveries))) > 0);
  }

  async renewLeases(owner: string, leaseMs: number): Promise<void> {
    await this.database.write(() => this.ops.renewLeases(owner, this.clock.now() + leaseMs));
  }

  async reclaim(selector: { owner: string } | { expiredBefore: number }): Promise<number> {
    const reclaimed = await this.database.write(() => this.ops.reclaim(selector));
    this.announce(reclaimed > 0);
    return reclaimed;
  }

  async cancel(selector: CancelSelector): Promise<CancelResult[]> {
    const results = await this.database.write(() => this.ops.cancel(selector, this.clock.now()));
    // A cancelled queued task frees its key (tasks); a running one must be stopped (cancellations).
    this.announce(results.some((result) => result.outcome === 'cancelled'));
    this.announce(results.some((result) => result.outcome === 'stopping'), 'cancellations');
    return results;
  }

  async pendingCancellations(owner: string): Promise<string[]> {
    return this.ops.pendingCancellations(owner);
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    return this.ops.stats(queues, this.clock.now());
  }

  async listDead(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.ops.listDead(filter);
  }

  async getDead(id: string): Promise<DeadLetter | undefined> {
    return this.ops.getDead(id);
  }

  async retryDead(selector: DeadLetterSelector): Promise<TaskEnvelope[]> {
    const envelopes = await this.database.write(() => this.ops.retryDead(selector, this.clock.now()));
    this.announce(envelopes.length > 0);
    return envelopes;
  }

  async purgeDead(selector: DeadLetterSelector): Promise<string[]> {
    return this.database.write(() => this.ops.purgeDead(selector));
  }

  async prune(retention: Retention): Promise<number> {
    return this.database.write(() => this.ops.prune(retention));
  }

  subscribe(listener: (change: BrokerChange) => void): () => void {
    const stopTasks = this.database.changes.subscribe('tasks', () => listener('tasks'));
    const stopCancellations = this.database.changes.subscribe('cancellations', () => listener('cancellations'));
    return () => {
      stopTasks();
      stopCancellations();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.release();
  }

  /** Wakes this process's listeners (a pool in the same process) without waiting for the poll. */
  private announce(changed: boolean, topic: 'tasks' | 'cancellations' = 'tasks'): void {
    if (changed) this.database.changes.notifyLocal(topic);
  }
}
