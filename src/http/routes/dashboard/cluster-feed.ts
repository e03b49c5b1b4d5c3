import type { Backend } from '../../../adapters/open-backend.js';
import { StorageUnavailableError } from '../../../core/errors.js';
import { describeDeadReason } from '../../../core/task-record.js';
import type { DeadLetter } from '../../../ports/broker.js';
import type { DecisionRecord } from '../../../ports/store.js';
import type { PoolManager } from '../../../runtime/pool/pool-manager.js';
import { readCluster, type ClusterView } from '../../../views/cluster-view.js';
import { FailureLog } from './failure-log.js';
import { chartPointOf, decisionKey, totalsOf, type ChartPoint, type DeadLetterRow, type FailureRow, type Totals } from './frame.js';

/** One reading of the cluster, shared by every client connected at that moment. */
export interface Sample {
  cluster: ClusterView;
  totals: Totals;
  failures: FailureRow[];
}

export interface Subscriber {
  /** The chart's focus: '' for the whole cluster, else a queue. */
  readonly scope: string;
  onSample(sample: Sample): void;
  onProblem(error: unknown): void;
}

export interface FeedOptions {
  backend: Backend;
  pool?: PoolManager;
  intervalMs?: number;
  /** How far back the chart goes. */
  historyMs?: number;
}

/** The store's newest decisions read each second: more than any cluster makes in one. */
const RECENT_DECISIONS = 200;
/** Chart histories kept for queues nobody looks at any more. */
const SCOPES_KEPT = 20;
/** Dead letters are re-read when the dead counts move, and at least this often (retrying one and burying another keeps the counts). */
const DEAD_REFRESH_MS = 10_000;
const PAYLOAD_PREVIEW = 120;
const SLOW_READING_MS = 5000;

/**
 * Reads the cluster once a second while at least one dashboard is connected,
 * and never otherwise: every client's event stream is cut from the same
 * reading. It keeps the chart's recent past, so a page opened now starts with
 * the last minutes already drawn.
 */
export class ClusterFeed {
  private readonly backend: Backend;
  private readonly intervalMs: number;
  private readonly historyMs: number;
  private readonly failures: FailureLog;
  private readonly subscribers = new Set<Subscriber>();
  /** By scope, most recently used last. */
  private readonly histories = new Map<string, ChartPoint[]>();
  private readonly lastDecisions = new Map<string, DecisionRecord | null>();
  private recentKeys = new Set<string>();
  private deadPages = new Map<string, Promise<DeadLetterRow[]>>();
  private deadSignature = '';
  private deadReadAt = 0;
  private latest: Sample | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;

  constructor(options: FeedOptions) {
    this.backend = options.backend;
    this.intervalMs = options.intervalMs ?? 1000;
    this.historyMs = options.historyMs ?? 10 * 60_000;
    this.failures = new FailureLog(options.pool, options.backend.store);
  }

  /** Starts the readings with the first subscriber; the returned function ends them with the last. */
  subscribe(subscriber: Subscriber): () => void {
    if (this.closed) throw new Error('the dashboard feed is closed');
    this.subscribers.add(subscriber);
    this.touchScope(subscriber.scope);
    if (this.latest && Date.now() - this.latest.cluster.at < this.intervalMs) {
      subscriber.onSample(this.latest);
    } else if (!this.ticking) {
      // Read now rather than at the next second (and never keep two timers).
      this.stopTimer();
      this.schedule(0);
    }
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stopTimer();
    };
  }

  history(scope: string): ChartPoint[] {
    return [...(this.histories.get(scope) ?? [])];
  }

  /** The decision that explains each pool's size (null: it has made none), from the readings or the store. */
  async lastDecisionOf(poolIds: readonly string[]): Promise<Map<string, DecisionRecord | null>> {
    const missing = poolIds.filter((id) => !this.lastDecisions.has(id));
    const found = await Promise.all(missing.map((poolId) => this.backend.store.listDecisions({ poolId, limit: 1 })));
    missing.forEach((id, index) => this.lastDecisions.set(id, found[index]![0] ?? null));
    return new Map(poolIds.map((id) => [id, this.lastDecisions.get(id) ?? null]));
  }

  /** A page of dead letters, read once per change of the dead counts and shared by the clients that show it. */
  deadLetters(queue: string | undefined, offset: number, limit: number): Promise<DeadLetterRow[]> {
    const key = `${queue ?? ''}\n${offset}\n${limit}`;
    const known = this.deadPages.get(key);
    if (known) return known;
    const page = this.backend.broker.listDead({ ...(queue === undefined ? {} : { queue }), offset, limit }).then((letters) => letters.map(deadLetterRow));
    // A failed read is not kept: the next frame tries again.
    page.catch(() => {
      if (this.deadPages.get(key) === page) this.deadPages.delete(key);
    });
    this.deadPages.set(key, page);
    return page;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.stopTimer();
    this.failures.close();
    await this.ticking;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, delayMs);
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    // A broker or store that is down may hold a reading for long (Redis queues commands until it is back): say so, and wait for it rather than pile up readings.
    const slow = setTimeout(() => {
      const error = new StorageUnavailableError(`the broker or store has not answered for ${SLOW_READING_MS / 1000} s; the dashboard goes on when it does`);
      for (const subscriber of this.subscribers) subscriber.onProblem(error);
    }, SLOW_READING_MS);
    try {
      const [cluster, failures] = await Promise.all([readCluster(this.backend, { decisions: RECENT_DECISIONS }), this.failures.recent()]);
      this.absorbDecisions(cluster.decisions);
      this.refreshDeadLetters(cluster);
      this.record(cluster);
      this.latest = { cluster, totals: totalsOf(cluster), failures };
      for (const subscriber of this.subscribers) subscriber.onSample(this.latest);
    } catch (error) {
      for (const subscriber of this.subscribers) subscriber.onProblem(error);
    } finally {
      clearTimeout(slow);
    }
    // The next reading starts a second after this one started, and never overlaps it.
    if (!this.closed && this.subscribers.size > 0) this.schedule(Math.max(0, this.intervalMs - (Date.now() - started)));
  }

  private absorbDecisions(recent: readonly DecisionRecord[]): void {
    const keys = new Set(recent.map(decisionKey));
    const overlap = recent.some((decision) => this.recentKeys.has(decisionKey(decision)));
    // More decisions than one reading holds came in: a pool's last one may be among those never seen.
    if (!overlap && this.recentKeys.size > 0) this.lastDecisions.clear();
    // Newest first: the first one seen for a pool is its last.
    const newest = new Map<string, DecisionRecord>();
    for (const decision of recent) {
      if (!this.recentKeys.has(decisionKey(decision)) && !newest.has(decision.poolId)) newest.set(decision.poolId, decision);
    }
    for (const [poolId, decision] of newest) this.lastDecisions.set(poolId, decision);
    this.recentKeys = keys;
  }

  private refreshDeadLetters(cluster: ClusterView): void {
    const signature = cluster.queues.map((queue) => `${queue.queue}:${queue.dead}:${queue.enqueuedTotal}`).join('\n');
    if (signature === this.deadSignature && cluster.at - this.deadReadAt < DEAD_REFRESH_MS) return;
    this.deadSignature = signature;
    this.deadReadAt = cluster.at;
    this.deadPages = new Map();
    // Pools that are gone: their last decisions need not be remembered.
    const live = new Set(cluster.pools.map((pool) => pool.id));
    for (const id of this.lastDecisions.keys()) if (!live.has(id)) this.lastDecisions.delete(id);
  }

  private record(cluster: ClusterView): void {
    const scopes = new Set(['', ...[...this.subscribers].map((subscriber) => subscriber.scope)]);
    for (const scope of scopes) {
      const points = this.touchScope(scope);
      points.push(chartPointOf(cluster, scope));
      const cutoff = cluster.at - this.historyMs;
      while (points.length > 0 && points[0]!.at < cutoff) points.shift();
    }
  }

  private touchScope(scope: string): ChartPoint[] {
    const points = this.histories.get(scope) ?? [];
    this.histories.delete(scope);
    this.histories.set(scope, points);
    for (const old of this.histories.keys()) {
      if (this.histories.size <= SCOPES_KEPT) break;
      if (old !== '') this.histories.delete(old);
    }
    return points;
  }
}

function deadLetterRow(letter: DeadLetter): DeadLetterRow {
  const { envelope } = letter;
  const row: DeadLetterRow = {
    id: envelope.id,
    queue: envelope.queue,
    type: envelope.type,
    kind: letter.reason.kind,
    reason: describeDeadReason(letter.reason),
    attempts: letter.attempts,
    deaths: letter.deaths,
    deadAt: letter.deadAt,
    payload: envelope.payload.length > PAYLOAD_PREVIEW ? `${envelope.payload.slice(0, PAYLOAD_PREVIEW)}…` : envelope.payload,
  };
  if (envelope.key !== undefined) row.key = envelope.key;
  return row;
}
