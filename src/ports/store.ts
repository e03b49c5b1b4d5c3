import type { Observation, ReasonCode } from '../core/scaling-policy.js';
import type { TaskRecord, TaskState } from '../core/task-record.js';

/**
 * Where state lives: task states and results, the pools and their workers,
 * and the scaling decisions. Every adapter passes the store conformance suite.
 */
export interface Store {
  /** Creates records for new tasks; existing ids are left as they are. */
  recordEnqueued(records: readonly TaskRecord[]): Promise<void>;
  /** Replaces records with fresh ones: tasks that start over (dead letters sent back to their queue). */
  replaceTasks(records: readonly TaskRecord[]): Promise<void>;
  /** Applies partial updates, creating a record that is missing. */
  updateTasks(updates: readonly TaskUpdate[]): Promise<void>;
  getTasks(ids: readonly string[]): Promise<TaskRecord[]>;
  /**
   * Calls back once for each of `ids` that is, or becomes, final
   * (succeeded, dead or cancelled). Returns a function that stops watching.
   */
  watchFinal(ids: readonly string[], listener: (record: TaskRecord) => void): () => void;
  reportPool(snapshot: PoolSnapshot): Promise<void>;
  removePool(poolId: string): Promise<void>;
  listPools(): Promise<PoolSnapshot[]>;
  recordDecision(decision: DecisionRecord): Promise<void>;
  listDecisions(filter: { limit: number; poolId?: string }): Promise<DecisionRecord[]>;
  /** Forgets final task records older than the retention, and the oldest beyond the count limit. */
  prune(retention: Retention): Promise<number>;
  /** Pauses or resumes a queue: while it is paused, pools take none of its tasks (running ones go on). */
  setQueuePaused(queue: string, paused: boolean): Promise<void>;
  pausedQueues(): Promise<string[]>;
  /** Overrides a pool's min and max at run time; null gives it back its own settings. */
  setPoolLimits(poolId: string, limits: PoolLimits | null): Promise<void>;
  poolLimits(poolId: string): Promise<PoolLimits | undefined>;
  close(): Promise<void>;
}

export type TaskUpdate = Pick<TaskRecord, 'id' | 'queue' | 'type' | 'state'> &
  Partial<Omit<TaskRecord, 'id' | 'queue' | 'type' | 'state'>>;

export interface Retention {
  now: number;
  maxAgeMs: number;
  maxRecords: number;
}

export type WorkerState = 'starting' | 'idle' | 'busy' | 'retiring';

export interface WorkerSnapshot {
  pid: number;
  state: WorkerState;
  taskId?: string;
  taskType?: string;
  taskStartedAt?: number;
  tasksDone: number;
  startedAt: number;
  rssBytes?: number;
}

export interface PoolLimits {
  min: number;
  max: number;
}

/** What a pool saw of the tasks it finished recently (see TaskStatsWindow). */
export interface PoolTaskStats {
  /** The span the figures cover, in milliseconds. */
  windowMs: number;
  /** Tasks that ended, by what they became. */
  outcomes: Partial<Record<TaskState, number>>;
  completedPerSecond: number;
  arrivalsPerSecond: number;
  /** From enqueue (or due time) to start. */
  waitMs: { p50: number; p95: number } | null;
  runMs: { p50: number; p95: number } | null;
}

export interface PoolSnapshot {
  id: string;
  hostname: string;
  pid: number;
  queue: string;
  startedAt: number;
  heartbeatAt: number;
  /** A pool whose heartbeat is older than this is gone. */
  ttlMs: number;
  min: number;
  max: number;
  desired: number;
  draining: boolean;
  /** Its queue is paused (gaffer takes none of its tasks). */
  paused: boolean;
  workers: WorkerSnapshot[];
  stats: PoolTaskStats;
}

export interface DecisionRecord {
  poolId: string;
  at: number;
  from: number;
  to: number;
  want: number;
  reason: ReasonCode;
  detail: string;
  observation: Observation;
}
